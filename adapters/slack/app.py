"""The Slack side of `serve`: a slack-bolt AsyncApp behind POST /slack/events.

Bolt verifies the signature (401 for unsigned, mis-signed or stale requests) and routes;
our listeners only translate, call the dispatcher, and render.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.deliver import SlackDeliverer
from adapters.slack.profiles import SlackTimezones
from adapters.slack.render import FORM_CALLBACK, home_blocks, message, modal, refused_modal
from handlers.kernel.delivery import Address
from handlers.kernel.model import Command, Form, Reply

log = logging.getLogger(__name__)

Dispatch = Callable[[Command], Awaitable[Reply]]


def _refused(view: dict, reason: str, answers: dict) -> dict:
    """The submitted modal again with the reason on top (render.refused_modal); only the reason
    when the view Slack sent back is malformed. Why: `"blocks": [null]` raised out of the listener."""
    try:
        return refused_modal(view, reason, answers)
    except (AttributeError, TypeError, KeyError):
        return refused_modal({}, reason, {})


class SlackAdapter:
    def __init__(self, *, signing_secret: str, token: str, api_url: str, dispatch: Dispatch,
                 channel_seconds: float):
        self.client = AsyncWebClient(token=token, base_url=api_url)
        self.timezones = SlackTimezones(self.client)
        self.deliverer = SlackDeliverer(self.client, channel_seconds=channel_seconds)
        self.dispatch = dispatch
        self.verifier = SignatureVerifier(signing_secret)
        # process_before_response: our listeners ack as soon as their answer is committed, so
        # bolt need not poll for the ack (a 10 ms sleep loop that puts a floor under every reply).
        self.app = AsyncApp(signing_secret=signing_secret, client=self.client, process_before_response=True)
        self.app.command("/partner")(self._on_slash_command)
        self.app.action(re.compile(r"^pb:"))(self._on_button)
        self.app.view_submission(re.compile(rf"^{re.escape(FORM_CALLBACK)}"))(self._on_form_submitted)
        self.app.event("app_home_opened")(self._on_home_opened)
        self._background: set[asyncio.Task] = set()  # work that must not hold up an ack
        self._names: dict[tuple[str, str], str] = {}  # (team, user id) -> display name of a picked person

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler for POST /slack/events."""
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:  # why: bolt parses before it verifies, and raised (a 500) on a JSON body that
            # is not an object (`null`, `[1]`): unsigned that is a 401 like any other, signed a 400
            body = await request.text()
            status = 400 if self.verifier.is_valid_request(body, dict(request.headers)) else 401
            return web.Response(status=status, text="not a Slack request")
        bolt_response = await self.app.async_dispatch(bolt_request)
        if bolt_response.status >= 500:  # why: bolt's own matchers raise on a signed but malformed
            # payload (`"actions": ""`) and answer 500, which Slack retries; our listeners never raise
            # (the dispatcher answers every failure), so a 500 means the request is bad: 400
            return web.Response(status=400, text="malformed Slack request")
        return await to_aiohttp_response(bolt_response)

    async def _on_slash_command(self, ack, command: dict, client: AsyncWebClient) -> None:
        tz = await self.timezones.of(command.get("team_id", ""), command.get("user_id", ""))
        cmd = translate.from_slash_command(command, tz)
        reply, _ = await self._open_reply_form(client, command.get("trigger_id"), await self.dispatch(cmd), cmd)
        await ack(response_type="ephemeral", **message(reply))

    async def _on_button(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        cmd = translate.from_button(body, None)
        cmd = replace(cmd, platform_timezone=await self.timezones.of(cmd.workspace, cmd.user))
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
        and the result comes as a direct message. Refused: the modal shows why, answers kept."""
        user = translate.obj(body.get("user"))
        team = translate.text_of(translate.obj(body.get("team")).get("id")) or translate.text_of(user.get("team_id"))
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
        reply = await self.dispatch(command)
        if reply.repeated:
            await ack()
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
                response = await asyncio.wait_for(self.client.users_info(user=user), self.timezones.timeout)
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
