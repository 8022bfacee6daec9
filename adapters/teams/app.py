"""The Teams side of `serve`: botbuilder's CloudAdapter behind POST /api/messages.

Every botbuilder import of the project lives in this folder, so a move to Microsoft's
Agents SDK touches nothing else. Bot Framework authentication is botbuilder's: with an
app id, a request without a valid token gets 401; without one (teams.unauthenticated, which
the settings allow on loopback only) the endpoint is open for local testing. Either way an
activity must then come from Teams, an allowed tenant and an allowed serviceUrl (trust.py).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes

from adapters.refusals import RefusalLog, nested_deeper_than
from adapters.teams import translate
from adapters.teams.deliver import TeamsDeliverer
from adapters.teams.render import message_activity
from adapters.teams.roster import Roster
from adapters.teams.trust import ServiceUrls
from handlers.kernel.model import Command, Reply

log = logging.getLogger(__name__)

Dispatch = Callable[[Command], Awaitable[Reply]]
RememberContact = Callable[[Command], Awaitable[None]]


class TeamsAdapter:
    def __init__(self, *, app_id: str, password: str, tenant_id: str, app_type: str,
                 dispatch: Dispatch, remember_contact: RememberContact, service_url_hosts: Iterable[str],
                 tenants: Iterable[str] = (), unauthenticated: bool = False):
        config = SimpleNamespace(APP_ID=app_id, APP_PASSWORD=password, APP_TENANTID=tenant_id, APP_TYPE=app_type)
        self.authenticated = bool(app_id)
        self.unauthenticated = unauthenticated and not app_id  # botbuilder checks no token without an app id
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
        self.adapter.on_turn_error = self._on_turn_error
        self.service_urls = ServiceUrls(service_url_hosts)
        self.tenants = frozenset(tenants)
        # the Bot Framework Emulator says channelId "emulator": only for local trials
        self.channels = frozenset({"msteams", "emulator"} if unauthenticated else {"msteams"})
        self.deliverer = TeamsDeliverer(self.adapter, app_id, self.service_urls)
        self.roster = Roster()
        self.dispatch = dispatch
        self.remember_contact = remember_contact
        self.refusals = RefusalLog(log, "Teams")

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler for POST /api/messages."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = json.loads(await request.text())
        except (ValueError, UnicodeDecodeError, LookupError):  # LookupError: a charset Python does not know
            return web.json_response({"error": "body is not JSON"}, status=400)
        except RecursionError:  # 200,000 `[`: json.loads gives up before we could count
            return self._refuse(request, 400, "nesting", "JSON nested too deeply")
        if nested_deeper_than(body):
            return self._refuse(request, 400, "nesting", "JSON nested too deeply")
        activity = _activity_of(body)
        if activity is None:
            return web.json_response({"error": "body is not a Bot Framework activity"}, status=400)
        if not (self.authenticated or self.unauthenticated):  # routed without being enabled: believe nothing
            return self._refuse(request, 401, "token", "no MICROSOFT_APP_ID to check tokens against",
                                answer="unauthorized")
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", ""))
        except Exception as error:  # why: botbuilder's token checks raise PermissionError, but
            # also jwt's DecodeError, KeyError, IndexError, a bare Exception, requests' errors fetching
            # the signing keys…: whatever this one call raises, the request is not authenticated
            return self._refuse(request, 401, "token", f"not authenticated ({_reason(error)})",
                                answer="unauthorized")
        if body.get("channelId") not in self.channels:
            return self._refuse(request, 400, "channel", f"channelId must be {' or '.join(sorted(self.channels))}")
        if refusal := self.service_urls.refusal(body["serviceUrl"]):
            return self._refuse(request, 403, "service_url", refusal)
        if self.tenants and translate.tenant_of(body) not in self.tenants:
            return self._refuse(request, 403, "tenant", "tenant is not in teams.tenants")
        invoke = await self.adapter.process_activity(authenticated, activity, _Turn(self, body).on_turn)
        if invoke:  # what CloudAdapter.process answers with, which we no longer call
            return web.json_response(serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)

    def _refuse(self, request: web.Request, status: int, kind: str, reason: str, *,
                answer: str | None = None) -> web.Response:
        """A request we do not believe: a short answer, and a short log line (refusals.py)."""
        self.refusals.note(kind, request.remote, reason, status)
        return web.json_response({"error": answer or reason}, status=status)

    async def on_turn(self, turn_context: TurnContext, activity: dict) -> None:
        """One authenticated activity; `activity` is its wire JSON (botbuilder's model drops
        the mention entities' fields and the conversation's tenantId)."""
        if turn_context.activity.type == ActivityTypes.message:
            wanted = translate.to_look_up(activity)
            roster = await self.roster.members(turn_context, translate.tenant_of(activity), wanted) if wanted else {}
            command = translate.from_activity(activity, roster)
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




def _reason(error: Exception) -> str:
    """An authentication failure in a few words: its kind and the start of its message."""
    text = " ".join(str(error).split())[:80]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _activity_of(body: object) -> Activity | None:
    """The body as botbuilder's Activity when it is one we can read and answer: who sent it, in
    which conversation, through which service URL; None otherwise. Why: CloudAdapter deserializes
    outside any handler (`"entities": ""` was a 500), and an activity without a conversation or
    service URL was carried out and then failed to be answered (a 500 too)."""
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return None
    sender, conversation, url = body.get("from"), body.get("conversation"), body.get("serviceUrl")
    if not (isinstance(sender, dict) and isinstance(sender.get("id"), str) and sender["id"]
            and isinstance(conversation, dict) and isinstance(conversation.get("id"), str) and conversation["id"]
            and isinstance(body.get("recipient"), dict)
            and isinstance(url, str) and url.startswith(("http://", "https://"))
            and all(isinstance(body.get(key), (str, type(None))) for key in ("id", "replyToId", "channelId"))):
        return None  # ids that address the reply: `"id": {}` made it undeliverable
    try:
        return Activity().deserialize(body)
    except Exception:  # msrest's DeserializationError, or whatever a stranger shape trips
        return None


class _Turn:
    """The `bot` botbuilder calls back for one request, carrying that request's raw JSON."""

    def __init__(self, teams: TeamsAdapter, activity: dict):
        self.teams, self.activity = teams, activity

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self.teams.on_turn(turn_context, self.activity)
