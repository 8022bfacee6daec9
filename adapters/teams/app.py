"""The Teams side of `serve`: botbuilder's CloudAdapter behind POST /api/messages.

Every botbuilder import of the project lives in this folder, so a move to Microsoft's
Agents SDK touches nothing else. Bot Framework authentication is botbuilder's: with an
app id, a request without a valid token gets 401; without one, the endpoint is open
for local testing (and `serve` says so).
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams import translate
from adapters.teams.deliver import TeamsDeliverer
from adapters.teams.render import message_activity
from handlers.kernel.model import Command, Reply

log = logging.getLogger(__name__)

Dispatch = Callable[[Command], Awaitable[Reply]]
RememberContact = Callable[[Command], Awaitable[None]]


class TeamsAdapter:
    def __init__(self, *, app_id: str, password: str, tenant_id: str, app_type: str,
                 dispatch: Dispatch, remember_contact: RememberContact):
        config = SimpleNamespace(APP_ID=app_id, APP_PASSWORD=password, APP_TENANTID=tenant_id, APP_TYPE=app_type)
        self.authenticated = bool(app_id)
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
        self.adapter.on_turn_error = self._on_turn_error
        self.deliverer = TeamsDeliverer(self.adapter, app_id)
        self.dispatch = dispatch
        self.remember_contact = remember_contact

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler for POST /api/messages."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "body is not JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not _well_formed(body):
            return web.json_response({"error": "body is not a Bot Framework activity"}, status=400)
        response = await self.adapter.process(request, _Turn(self, body))
        return response or web.Response(status=201)

    async def on_turn(self, turn_context: TurnContext, activity: dict) -> None:
        """One authenticated activity; `activity` is its wire JSON (botbuilder's model drops
        the mention entities' fields and the conversation's tenantId)."""
        if turn_context.activity.type == ActivityTypes.message:
            command = translate.from_activity(activity)
            if command is None:
                if isinstance(activity.get("value"), dict):  # a card submit without its command
                    reply = Reply("That card's data is incomplete, so nothing was changed. Type `help` to start again.",
                                  ok=False)
                    await turn_context.send_activity(Activity().deserialize(message_activity(reply)))
                return
            reply = await self.dispatch(command)
            if reply.repeated:
                return
            outgoing = Activity().deserialize(message_activity(reply))
            try:
                if reply.replace_source and turn_context.activity.reply_to_id:
                    outgoing.id = turn_context.activity.reply_to_id
                    await turn_context.update_activity(outgoing)
                else:
                    await turn_context.send_activity(outgoing)
            except Exception:  # why: the command is committed, only its answer is lost; the turn-error
                # handler would answer "nothing was changed" (untrue) and the request would be a 500
                log.warning("could not answer a Teams activity (%s)", reply.text[:80], exc_info=True)
        elif turn_context.activity.type == ActivityTypes.invoke:
            # why: an invoke nobody answers is a 501 from botbuilder; we implement none (our cards'
            # Action.Submit arrives as a message), so it is a request we cannot serve: 400
            await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                                      value=InvokeResponse(status=400)))
        elif (contact := translate.contact_only(activity)) is not None:
            await self.remember_contact(contact)  # installed, added to a team…: first contact

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        log.exception("Teams turn failed", exc_info=error)
        await turn_context.send_activity("Something went wrong on our side and nothing was changed. Please try again.")




def _well_formed(body: dict) -> bool:
    """Whether the body is an activity we can read and answer: who sent it, in which conversation,
    through which service URL, and botbuilder can deserialize it. Why: CloudAdapter.process
    deserializes outside any handler (`"entities": ""` was a 500), and an activity without a
    conversation or service URL was carried out and then failed to be answered (a 500 too)."""
    sender, conversation, url = body.get("from"), body.get("conversation"), body.get("serviceUrl")
    if not (isinstance(sender, dict) and isinstance(sender.get("id"), str) and sender["id"]
            and isinstance(conversation, dict) and isinstance(conversation.get("id"), str) and conversation["id"]
            and isinstance(body.get("recipient"), dict)
            and isinstance(url, str) and url.startswith(("http://", "https://"))
            and all(isinstance(body.get(key), (str, type(None))) for key in ("id", "replyToId", "channelId"))):
        return False  # ids that address the reply: `"id": {}` made it undeliverable
    try:
        Activity().deserialize(body)
    except Exception:  # msrest's DeserializationError, or whatever a stranger shape trips
        return False
    return True


class _Turn:
    """The `bot` botbuilder calls back for one request, carrying that request's raw JSON."""

    def __init__(self, teams: TeamsAdapter, activity: dict):
        self.teams, self.activity = teams, activity

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self.teams.on_turn(turn_context, self.activity)
