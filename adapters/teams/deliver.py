"""Outbox messages → Teams, through the conversation reference saved from the person's last activity."""
from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationParameters, ConversationReference, Mention

from adapters.teams.render import message_activity
from adapters.teams.trust import ServiceUrls
from handlers.kernel.delivery import Address, NotReachableYet, RetryAfter, Undeliverable
from handlers.kernel.model import Reply

# Microsoft asks bots to back off (exponentially, with jitter) on these, not only on 429:
# https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit
THROTTLED = {412, 429, 502, 504}


class TeamsDeliverer:
    platform = "teams"

    def __init__(self, adapter, app_id: str, service_urls: ServiceUrls):
        self.adapter = adapter
        self.app_id = app_id
        self.service_urls = service_urls

    async def deliver(self, address: Address, reply: Reply) -> None:
        if not address.contact:
            raise NotReachableYet(address.user or address.channel)
        # checked again at every send: a reference stored before the allow-list changed (or by
        # an older version that did not check) must not make us post where it says
        if refusal := self.service_urls.refusal(address.contact.get("serviceUrl")):
            raise Undeliverable(f"not sent to the stored Teams contact: {refusal}")
        reference = ConversationReference().deserialize(address.contact)
        wire = message_activity(reply)
        activity = Activity().deserialize(wire)
        if wire.get("entities"):  # a plain Entity would drop a mention's text and who it names
            activity.entities = [Mention().deserialize(entity) for entity in wire["entities"]]

        failures: list[Exception] = []

        async def send(turn_context: TurnContext) -> None:
            # caught here: botbuilder hands a turn's exception to on_turn_error, not to us
            try:
                await turn_context.send_activity(activity)
            except Exception as error:
                failures.append(error)

        try:
            personal = (reference.conversation.conversation_type or "personal") == "personal"
            if personal or address.channel:  # their 1:1 chat, or the channel itself
                await self.adapter.continue_conversation(reference, send, self.app_id)
            else:  # last seen in a channel: open the 1:1 chat with them first
                parameters = ConversationParameters(
                    is_group=False, bot=reference.bot, members=[reference.user],
                    tenant_id=reference.conversation.tenant_id,
                    channel_data={"tenant": {"id": reference.conversation.tenant_id}},
                )
                await self.adapter.create_conversation(
                    self.app_id, send, parameters, channel_id=reference.channel_id,
                    service_url=reference.service_url)
            if failures:
                raise failures[0]
        except Exception as error:
            status, retry_after = _status_of(error)
            if status in THROTTLED:  # the sender waits Retry-After when given, else backs off
                raise RetryAfter(retry_after) from None
            if status in (403, 404):
                raise Undeliverable(f"Teams answered {status}") from None
            raise


def _status_of(error: Exception) -> tuple[int | None, float | None]:
    """The HTTP status (and Retry-After) behind a connector error, whatever its wrapper."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    retry = next((v for k, v in dict(headers).items() if k.lower() == "retry-after"), None)
    try:
        return status, float(retry) if retry is not None else None
    except ValueError:
        return status, None
