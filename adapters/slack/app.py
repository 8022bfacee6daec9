"""The Slack side of `serve`: a slack-bolt AsyncApp behind POST /slack/events.

Bolt verifies the signature (401 for unsigned, mis-signed or stale requests) and routes;
our listeners only translate, call the dispatcher, and render.
"""
from __future__ import annotations

import logging
import re
from typing import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.deliver import SlackDeliverer
from adapters.slack.profiles import SlackTimezones
from adapters.slack.render import home_blocks, message
from handlers.model import Command, Reply

log = logging.getLogger(__name__)

Dispatch = Callable[[Command], Awaitable[Reply]]


class SlackAdapter:
    def __init__(self, *, signing_secret: str, token: str, api_url: str, dispatch: Dispatch):
        self.client = AsyncWebClient(token=token, base_url=api_url)
        self.timezones = SlackTimezones(self.client)
        self.deliverer = SlackDeliverer(self.client)
        self.dispatch = dispatch
        # process_before_response: our listeners ack as soon as their answer is committed, so
        # bolt need not poll for the ack (a 10 ms sleep loop that puts a floor under every reply).
        self.app = AsyncApp(signing_secret=signing_secret, client=self.client, process_before_response=True)
        self.app.command("/partner")(self._on_slash_command)
        self.app.action(re.compile(r"^pb:"))(self._on_button)
        self.app.event("app_home_opened")(self._on_home_opened)

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler for POST /slack/events."""
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _on_slash_command(self, ack, command: dict) -> None:
        tz = await self.timezones.of(command.get("team_id", ""), command.get("user_id", ""))
        reply = await self.dispatch(translate.from_slash_command(command, tz))
        await ack(response_type="ephemeral", **message(reply))

    async def _on_button(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        user = body.get("user") or {}
        tz = await self.timezones.of((body.get("team") or {}).get("id", ""), user.get("id", ""))
        reply = await self.dispatch(translate.from_button(body, tz))
        container = body.get("container") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        try:
            if reply.replace_source and channel and ts:
                await client.chat_update(channel=channel, ts=ts, **message(reply))
            elif channel:
                await client.chat_postEphemeral(channel=channel, user=user.get("id"), **message(reply))
        except Exception:  # the change is saved; only the on-screen echo is lost
            log.exception("could not show the result of a Slack button")

    async def _on_home_opened(self, body: dict, event: dict, client: AsyncWebClient) -> None:
        """The Home tab shows the person's open items; a retried event publishes nothing twice."""
        if event.get("tab") != "home":
            return
        team, user = body.get("team_id", ""), event.get("user", "")
        reply = await self.dispatch(translate.from_home_opened(body, await self.timezones.of(team, user)))
        if reply.repeated:
            return
        await client.views_publish(user_id=user, view={"type": "home", "blocks": home_blocks(reply)})
