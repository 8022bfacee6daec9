"""The Teams side of `serve`: botbuilder's CloudAdapter behind POST /api/messages.

Every botbuilder import of the project lives in this folder, so a move to Microsoft's
Agents SDK touches nothing else. Bot Framework authentication is botbuilder's: with an
app id, a request without a valid token gets 401; without one, the endpoint is open
for local testing (and `serve` says so).
"""
from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Awaitable, Callable

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams import translate
from adapters.teams.deliver import TeamsDeliverer
from adapters.teams.render import message_activity
from handlers.model import Command, Reply

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
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
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
            if reply.replace_source and turn_context.activity.reply_to_id:
                outgoing.id = turn_context.activity.reply_to_id
                await turn_context.update_activity(outgoing)
            else:
                await turn_context.send_activity(outgoing)
        elif (contact := translate.contact_only(activity)) is not None:
            await self.remember_contact(contact)  # installed, added to a team…: first contact

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        log.exception("Teams turn failed", exc_info=error)
        await turn_context.send_activity("Something went wrong on our side and nothing was changed. Please try again.")




class _Turn:
    """The `bot` botbuilder calls back for one request, carrying that request's raw JSON."""

    def __init__(self, teams: TeamsAdapter, activity: dict):
        self.teams, self.activity = teams, activity

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self.teams.on_turn(turn_context, self.activity)
