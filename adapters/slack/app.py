"""The Slack side of `serve`: a slack-bolt AsyncApp behind POST /slack/events.

We verify each request ourselves before anything reads or logs its body (slack_sdk's
SignatureVerifier, bolt's rules: 401 for unsigned, mis-signed or stale requests, 400 for a
malformed one), then hand bolt the body as we read it; bolt routes, and our listeners only
translate, call the dispatcher, and render.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.refusals import RefusalLog, nested_deeper_than
from adapters.slack import translate
from adapters.slack.clients import OneWorkspace
from adapters.slack.connect import HomeTeams, mentioned_not_installed_line, not_installed_line
from adapters.slack.deliver import SlackDeliverer
from adapters.slack.oauth import OAuthApp, SlackInstaller
from adapters.slack.profiles import CallerProfile, SlackTimezones
from adapters.slack.render import FORM_CALLBACK, field_errors, home_blocks, message, modal, refused_modal
from handlers.kernel.delivery import Address
from handlers.kernel.grammar import MENTION
from handlers.kernel.model import Account, Command, Form, Reply

log = logging.getLogger(__name__)

Dispatch = Callable[[Command], Awaitable[Reply]]


# Slack's largest requests (a modal's submission, an event carrying a 40,000-character message)
# are tens of kilobytes. 1 MiB, aiohttp's own default limit, leaves them ample room and bounds
# what anyone, signed or not, can make us read and hash.
MAX_BODY_BYTES = 1024 * 1024
MAX_CLOCK_SKEW_SECONDS = 5 * 60  # what slack_sdk's SignatureVerifier (and so bolt) allows


class Refused(Exception):
    """A request refused before bolt sees it: its HTTP status, and the reason logged for it."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


async def _read_body(request: web.Request) -> bytes:
    """The body, refused (413) past MAX_BODY_BYTES whatever Content-Length said."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(body: str, content_type: str | None) -> dict:
    """A verified body as bolt reads it: JSON (the Events API), or a form whose `payload` field,
    if it has one, is the JSON (interactions). Refused (400) unless it is a JSON object that
    nests at most MAX_NESTING (adapters/refusals.py) deep or a well-formed form. Why not bolt's own reading: it raised
    RecursionError on deep nesting, and read any form whose text merely contains "payload" (a
    slash command `/partner commit send payload docs by fri`) as empty, an unhandled request."""
    try:
        if (content_type or "").split(";")[0].strip().lower() == "application/json" or body.startswith("{"):
            parsed = json.loads(body)
        else:
            fields = dict(parse_qsl(body, keep_blank_values=True, strict_parsing=True))
            parsed = json.loads(fields["payload"]) if "payload" in fields else fields
    except (ValueError, RecursionError):  # JSONDecodeError and a bad form field are ValueErrors
        raise Refused(400, "malformed body") from None
    if not isinstance(parsed, dict) or not parsed or nested_deeper_than(parsed):
        raise Refused(400, "malformed body")
    return parsed


def _refused(view: dict, reason: str, answers: dict) -> dict:
    """The submitted modal again with the reason on top (render.refused_modal); only the reason
    when the view Slack sent back is malformed. Why: `"blocks": [null]` raised out of the listener."""
    try:
        return refused_modal(view, reason, answers)
    except (AttributeError, TypeError, KeyError):
        return refused_modal({}, reason, {})


class SlackAdapter:
    def __init__(self, *, signing_secret: str, token: str | None, api_url: str, dispatch: Dispatch,
                 channel_seconds: float, oauth: OAuthApp | None = None):
        # one workspace: `token` speaks for everything; with `oauth`, any number of workspaces,
        # each call with its own workspace's token (the client here has none)
        self.client = AsyncWebClient(token=None if oauth else token, base_url=api_url)
        self.installer = SlackInstaller(oauth, self.client) if oauth else None
        self.clients = self.installer.clients if self.installer else OneWorkspace(self.client)
        self.timezones = SlackTimezones(self.client, clients=self.clients)
        self.deliverer = SlackDeliverer(self.client, channel_seconds=channel_seconds, clients=self.clients)
        self.dispatch = dispatch
        # Slack Connect (multi-workspace): people are their own workspace's; one whose workspace
        # has not installed the app is told where to install it
        self.home_teams = HomeTeams(self.clients, self._installed) if self.installer else None
        self.install_url = oauth.install_url if oauth else ""
        self.verifier = SignatureVerifier(signing_secret)
        self.refusals = RefusalLog(log, "Slack")
        # multi-workspace: bolt's OAuth flow and its authorize middleware, which gives each request
        # the token of its workspace (the listeners' `client`); a workspace without an installation
        # is told where to install
        installs = {"oauth_flow": self.installer.flow, "user_facing_authorize_error_message": (
            f"Partnerbot is not installed in this workspace yet: install it at {oauth.install_url}")
        } if self.installer and oauth else {}
        # process_before_response: our listeners ack as soon as their answer is committed, so
        # bolt need not poll for the ack (a 10 ms sleep loop that puts a floor under every reply).
        # request_verification_enabled=False: handle() verifies every request before it reaches
        # bolt (async_dispatch has no other caller); bolt's own check logged the body of each
        # request it refused, at INFO, and raised on a timestamp that is not a number.
        self.app = AsyncApp(signing_secret=signing_secret, client=self.client, process_before_response=True,
                            request_verification_enabled=False, **installs)
        # the slash command's listener first: bolt tries the listeners in the order they were
        # added, and trying one costs ~15 µs (building its arguments), each command's
        self.app.command("/partner")(self._on_slash_command)
        if self.installer:
            self.app.middleware(self.installer.note_org_workspace)
            self.app.event("tokens_revoked")(self.installer.on_tokens_revoked)
            self.app.event("app_uninstalled")(self.installer.on_app_uninstalled)
        else:  # the manifest subscribes to both; one workspace has nothing to do but say so
            self.app.event("tokens_revoked")(_token_gone)
            self.app.event("app_uninstalled")(_token_gone)
        self.app.action(re.compile(r"^pb:"))(self._on_button)
        self.app.view_submission(re.compile(rf"^{re.escape(FORM_CALLBACK)}"))(self._on_form_submitted)
        self.app.event("app_home_opened")(self._on_home_opened)
        self._background: set[asyncio.Task] = set()  # work that must not hold up an ack
        self._names: dict[tuple[str, str], str] = {}  # (team, user id) -> display name of a picked person

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler for POST /slack/events."""
        try:
            body = await self._verified_body(request)
            payload = parse_body(body, request.headers.get("Content-Type"))
            try:  # bolt reads the body as we did: JSON, whatever it came as
                headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
                bolt_request = AsyncBoltRequest(body=json.dumps(payload), query=request.query_string,
                                                headers={**headers, "Content-Type": "application/json"})
            except Exception:  # bolt's reading of ids and context raised on a payload of odd types
                raise Refused(400, "malformed body") from None
        except Refused as refused:
            self.refusals.note(refused.reason, request.remote, status=refused.status)
            return web.Response(status=refused.status, text=f"not a valid Slack request: {refused.reason}")
        bolt_response = await self.app.async_dispatch(bolt_request)
        if bolt_response.status >= 500:  # why: bolt's own matchers raise on a signed but malformed
            # payload (`"actions": ""`) and answer 500, which Slack retries; our listeners never raise
            # (the dispatcher answers every failure), so a 500 means the request is bad: 400
            return web.Response(status=400, text="malformed Slack request")
        return await to_aiohttp_response(bolt_response)

    async def _verified_body(self, request: web.Request) -> str:
        """The body of a request Slack signed, read only as far as needed to tell: no signature
        is a 401 before the body is read, and so is a signature that does not match or a
        timestamp more than five minutes off (a replay); a timestamp that is not a number is a
        400. A body that is not UTF-8 was not signed by Slack (slack_sdk cannot even check it): 401."""
        signature = request.headers.get("X-Slack-Signature")
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        if not signature:
            raise Refused(401, "missing headers")
        if not (timestamp and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise Refused(400, "bad timestamp")
        if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            raise Refused(401, "stale timestamp")
        raw = await _read_body(request)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(401, "bad signature") from None
        if not self.verifier.is_valid(body, timestamp, signature):
            raise Refused(401, "bad signature")
        return body

    async def _on_slash_command(self, ack, command: dict, client: AsyncWebClient) -> None:
        team, user = command.get("team_id", ""), command.get("user_id", "")
        profile = await self.timezones.of_caller(team, user)
        cmd = _with_profile(translate.from_slash_command(command, None), profile)
        cmd, unreachable = await self._with_home_workspaces(cmd, MENTION.findall(cmd.text))
        if unreachable:
            await ack(response_type="ephemeral", **message(Reply(unreachable, ok=False)))
            return
        reply, _ = await self._open_reply_form(client, command.get("trigger_id"), await self.dispatch(cmd), cmd)
        await ack(response_type="ephemeral", **message(reply))

    async def _installed(self, team: str) -> bool:
        return bool(self.installer and await self.installer.store.bot_token_of(team))

    async def _with_home_workspaces(self, command: Command,
                                    mentioned: list[tuple[str, str]]) -> tuple[Command, str | None]:
        """The command with each mentioned person of another workspace (Slack Connect) marked as
        that workspace's; or, when a mentioned person's workspace has not installed the app, what
        the caller is told instead (nothing is done: the person could never be reached)."""
        names = {user: name for user, name in mentioned if user != command.user}
        if not self.home_teams or not names:
            return command, None
        homes = await asyncio.gather(*(self.home_teams.of(command.workspace, user) for user in names))
        accounts, unreachable = dict(command.accounts), []
        for (user, name), home in zip(names.items(), homes, strict=True):
            if not home or home == command.workspace:
                continue
            if await self._installed(home):
                accounts[user] = replace(accounts.get(user) or Account(), workspace=home)
            else:
                unreachable.append(name or user)
        if unreachable:
            return command, mentioned_not_installed_line(unreachable, self.install_url)
        return replace(command, accounts=accounts), None

    async def _refused_not_installed(self, body: dict, client: AsyncWebClient) -> bool:
        """A click by someone whose own workspace has not installed the app (a Slack Connect
        channel member of a third company): told, in the channel, where to install it."""
        team = translate.user_team(body)
        if not self.home_teams or not team or await self._installed(team):
            return False
        channel = translate.text_of(translate.obj(body.get("container")).get("channel_id"))
        user = translate.text_of(translate.obj(body.get("user")).get("id"))
        try:
            if channel and user:
                await client.chat_postEphemeral(channel=channel, user=user, text=not_installed_line(self.install_url))
        except Exception:  # nothing was done; only the explanation is lost
            log.exception("could not tell %s that their workspace has not installed the app", user)
        return True

    async def _on_button(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        if await self._refused_not_installed(body, client):
            return
        cmd = translate.from_button(body, None)
        cmd = _with_profile(cmd, await self.timezones.of_caller(cmd.workspace, cmd.user))
        reply, opened = await self._open_reply_form(client, body.get("trigger_id"), await self.dispatch(cmd), cmd)
        if reply.repeated:  # why: a redelivered click posted "already handled" next to the first's answer
            return
        if translate.clicked_in_home(body):
            await self._publish_home(client, translate.home_refresh(cmd), notice=None if opened else reply)
            return
        if opened and not reply.replace_source:
            return  # the modal is the answer
        container = translate.obj(body.get("container"))
        channel, ts = translate.text_of(container.get("channel_id")), translate.text_of(container.get("message_ts"))
        try:
            if reply.replace_source and channel and ts:
                await client.chat_update(channel=channel, ts=ts, **message(reply))
            elif channel:
                await client.chat_postEphemeral(channel=channel, user=cmd.user, **message(reply))
        except Exception:  # the change is saved; only the on-screen echo is lost
            log.exception("could not show the result of a Slack button")

    async def _open_reply_form(self, client: AsyncWebClient, trigger_id: str | None, reply: Reply,
                               command: Command) -> tuple[Reply, bool]:
        """Open the reply's form, if it has one, as a modal: the reply to show beside it (saying
        why when the modal could not open) and whether it opened."""
        if not reply.form or reply.repeated:
            return reply, False
        problem = await self._open_form(client, trigger_id, reply.form, command)
        if problem:
            return replace(reply, text=f"{reply.text}\n{problem}"), False
        return reply, True

    async def _open_form(self, client: AsyncWebClient, trigger_id: str | None, form: Form,
                         command: Command) -> str | None:
        """Open the form as a modal; what went wrong, for the person, when it could not be opened."""
        if not trigger_id:
            return "Slack did not say where to open the form; please run the command again."
        try:
            await client.views_open(trigger_id=trigger_id, view=modal(form, command.channel, command.is_direct))
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            return f"Slack would not open the form ({error.response.get('error')}); please run the command again."
        except Exception:
            log.exception("views.open failed")
            return "Slack would not open the form; please run the command again."
        return None

    async def _on_form_submitted(self, ack, body: dict, view: dict) -> None:
        """A form modal submitted: run its command with the answers. Accepted: the modal closes
        and the result comes as a direct message. Refused field by field: the modal stays open,
        each reason under its field. Refused otherwise: the modal shows why on top, answers kept."""
        user = translate.obj(body.get("user"))
        team = translate.user_team(body)  # the submitter's own workspace (Slack Connect: not the channel's)
        tz, names = await asyncio.gather(self.timezones.of(team, translate.text_of(user.get("id"))),
                                         self._names_of(team, translate.picked_users(body)))
        command = translate.from_view_submission(body, tz)
        if command is None:
            await ack(response_action="update", view=refused_modal(
                {"title": translate.obj(view).get("title")}, "This form's data is incomplete, so nothing was "
                "changed. Type `/partner help` to start again.", {}))
            return
        if names:
            command = replace(command, mention_names=names)
        command, unreachable = await self._with_home_workspaces(
            command, [(picked, names.get(picked, "")) for picked in translate.picked_users(body)])
        if unreachable:
            await ack(response_action="update", view=_refused(view, unreachable, command.form_values or {}))
            return
        reply = await self.dispatch(command)
        if reply.repeated:
            await ack()
        elif not reply.ok and (errors := field_errors(translate.obj(view), reply.form)):
            await ack(response_action="errors", errors=errors)  # under each field; the modal keeps the rest
        elif not reply.ok:
            await ack(response_action="update", view=_refused(view, reply.text, command.form_values or {}))
        elif reply.form:  # the answers lead to another form
            await ack(response_action="update", view=modal(reply.form, command.channel, command.is_direct))
        else:
            await ack()
            self._soon(self._tell(Address(workspace=team, user=command.user), reply))

    async def _names_of(self, team: str, users: list[str]) -> dict[str, str]:
        """Display names of the people picked in a form (a user picker submits only their id),
        so a person first seen there gets a real name. From users.info, at the same time as the
        submitter's timezone and remembered per process; one that is slow or fails is left out."""

        async def one(user: str) -> None:
            if (team, user) in self._names:
                return
            try:
                client = await self.clients.of(team)  # the workspace's own token
                response = await asyncio.wait_for(client.users_info(user=user), self.timezones.timeout)
            except Exception as error:  # the form goes on without the name
                log.warning("users.info for %s failed: %s", user, error)
                return
            found = response.get("user") or {}
            profile = found.get("profile") or {}
            name = (profile.get("display_name") or profile.get("real_name")  # what people see in Slack
                    or found.get("real_name") or found.get("name"))
            if name:
                self._names[(team, user)] = name

        await asyncio.gather(*(one(user) for user in set(users)))
        return {user: self._names[(team, user)] for user in users if (team, user) in self._names}

    async def _tell(self, address: Address, reply: Reply) -> None:
        try:
            await self.deliverer.deliver(address, reply)
        except Exception:  # the answers are saved; only the confirmation is lost
            log.exception("could not tell %s the result of a form", address.user)

    def _soon(self, work: Awaitable[None]) -> None:
        """Run after the ack is sent (bolt answers Slack only once the listener returns)."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def busy(self) -> bool:
        """Work begun after an ack (a form's confirmation DM) is still under way."""
        return bool(self._background)

    async def _on_home_opened(self, body: dict, event: dict, client: AsyncWebClient) -> None:
        """The Home tab shows the person's open items; a retried event publishes nothing twice."""
        if event.get("tab") != "home":
            return
        command = translate.from_home_opened(body, None)
        tz = await self.timezones.of(command.workspace, command.user)
        await self._publish_home(client, replace(command, platform_timezone=tz))

    async def _publish_home(self, client: AsyncWebClient, command: Command, notice: Reply | None = None) -> None:
        """Publish the person's Home tab: their scorecard and open items, under `notice` (what
        a click on the tab just did: the tab has no thread to answer in)."""
        reply = await self.dispatch(command)
        if reply.repeated:
            return
        try:
            await client.views_publish(user_id=command.user,
                                       view={"type": "home", "blocks": home_blocks(reply, notice)})
        except Exception:  # the tab keeps its last view; the next opening publishes again
            log.exception("could not publish the Home tab of %s", command.user)


async def _token_gone(event: dict) -> None:
    log.warning("Slack says %s: SLACK_BOT_TOKEN no longer works; reinstall the app and set its new token",
                event.get("type"))


def _with_profile(command: Command, profile: CallerProfile) -> Command:
    """The command with what users.info said of the caller."""
    accounts = {command.user: Account(email=profile.email)} if profile.email else {}
    return replace(command, platform_timezone=profile.timezone, platform_admin=profile.admin, accounts=accounts)
