"""Outbox messages → Slack Web API calls."""
from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import message
from bot.delivery import Address, RetryAfter, Undeliverable
from handlers.model import Reply

# Errors that no retry will fix.
PERMANENT = {
    "user_not_found", "users_not_found", "channel_not_found", "not_in_channel", "is_archived",
    "account_inactive", "cannot_dm_bot", "invalid_blocks", "msg_too_long", "user_disabled",
}


class SlackDeliverer:
    platform = "slack"

    def __init__(self, client: AsyncWebClient):
        self.client = client
        self._dm_channels: dict[tuple[str, str], str] = {}

    async def deliver(self, address: Address, reply: Reply) -> None:
        try:
            channel = address.channel or await self._dm_channel(address.workspace, address.user)
            await self.client.chat_postMessage(channel=channel, **message(reply))
        except SlackApiError as error:
            response = error.response
            if response.status_code == 429:
                headers = {k.lower(): v for k, v in (response.headers or {}).items()}
                raise RetryAfter(float(headers.get("retry-after", 1))) from None
            if response.get("error") in PERMANENT:
                raise Undeliverable(response.get("error")) from None
            raise

    async def _dm_channel(self, team: str, user: str) -> str:
        key = (team, user)
        if key not in self._dm_channels:
            response = await self.client.conversations_open(users=user)
            self._dm_channels[key] = response["channel"]["id"]
        return self._dm_channels[key]
