"""Outbox messages → Slack Web API calls."""
from __future__ import annotations

from collections import OrderedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import InstalledWorkspaces, NotInstalled, OneWorkspace, WorkspaceClients, not_installed
from adapters.slack.render import message
from handlers.kernel.delivery import Address, ChannelPacer, RetryAfter, Undeliverable
from handlers.kernel.model import Reply

# Errors that no retry will fix.
PERMANENT = {
    "user_not_found", "users_not_found", "channel_not_found", "not_in_channel", "is_archived",
    "account_inactive", "cannot_dm_bot", "invalid_blocks", "msg_too_long", "user_disabled",
}
# Errors that say the workspace's token is dead (revoked, the app uninstalled, the workspace
# gone): with installations (multi-workspace), the workspace's messages are parked until it
# reinstalls, instead of each retried or failed on its own.
TOKEN_DEAD = {"invalid_auth", "account_inactive", "token_revoked", "token_expired", "not_authed"}
# chat.postMessage allows about one message a second into one channel ("generous bursts" aside;
# we do not count on them: two posts to one channel leave a second apart). The default of the
# setting outbox.slack_channel_seconds, which wiring passes in.
SECONDS_PER_CHANNEL_MESSAGE = 1.0
CHANNEL_BURST = 1
DM_CHANNELS_KEPT = 4096  # a weekly fan-out opens each DM once; keep memory flat in the head count


class SlackDeliverer:
    platform = "slack"

    def __init__(self, client: AsyncWebClient, *, channel_seconds: float = SECONDS_PER_CHANNEL_MESSAGE,
                 clients: WorkspaceClients | None = None):
        self.client = client
        # each message goes out with its workspace's token (multi-workspace); else `client`'s
        self.clients = clients or OneWorkspace(client)
        self.pacer = ChannelPacer(channel_seconds, burst=CHANNEL_BURST)
        self._dm_channels: OrderedDict[tuple[str, str], str] = OrderedDict()

    def ready_at(self, address: Address) -> float:
        return self.pacer.ready_at(address.key)

    async def deliver(self, address: Address, reply: Reply) -> None:
        paced_before = self.pacer.note_sent(address.key)
        try:
            client = await self.clients.of(address.workspace)
            channel = address.channel or await self._dm_channel(client, address.workspace, address.user)
            await client.chat_postMessage(channel=channel, **message(reply))
            self.pacer.posted(address.key, paced_before)
        except NotInstalled as missing:
            self.pacer.refused(address.key, paced_before)  # nothing was posted
            raise Undeliverable(str(missing)) from None
        except SlackApiError as error:
            response = error.response
            if response.status_code == 429:
                self.pacer.refused(address.key, paced_before)  # nothing was posted
                headers = {k.lower(): v for k, v in (response.headers or {}).items()}
                raise RetryAfter(_seconds(headers.get("retry-after"))) from None
            if response.get("error") in TOKEN_DEAD and isinstance(self.clients, InstalledWorkspaces):
                self.clients.forget(address.workspace)  # a reinstall's token is read afresh
                raise Undeliverable(not_installed(address.workspace, response.get("error"))) from None
            if response.get("error") in PERMANENT:
                raise Undeliverable(response.get("error")) from None
            raise

    async def _dm_channel(self, client: AsyncWebClient, team: str, user: str) -> str:
        key = (team, user)
        if key in self._dm_channels:
            self._dm_channels.move_to_end(key)
            return self._dm_channels[key]
        response = await client.conversations_open(users=user)
        self._dm_channels[key] = response["channel"]["id"]
        if len(self._dm_channels) > DM_CHANNELS_KEPT:
            self._dm_channels.popitem(last=False)
        return self._dm_channels[key]


def _seconds(retry_after: str | None) -> float | None:
    try:
        return max(0.0, float(retry_after)) if retry_after is not None else None
    except ValueError:
        return None
