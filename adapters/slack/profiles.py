"""A Slack user's timezone from users.info, fetched once per user per process."""
from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SlackTimezones:
    def __init__(self, client: AsyncWebClient, timeout: float = 1.5):
        self.client = client
        self.timeout = timeout  # the lookup sits on the ack path of someone's first command
        self._known: dict[tuple[str, str], str | None] = {}

    async def of(self, team: str, user: str) -> str | None:
        key = (team, user)
        if key in self._known:
            return self._known[key]
        try:
            response = await asyncio.wait_for(self.client.users_info(user=user), self.timeout)
        except Exception as error:  # a slow or failing Slack must not fail the command
            log.warning("users.info for %s failed: %s", user, error)
            return None  # not remembered: try again next time
        tz = (response.get("user") or {}).get("tz")
        self._known[key] = tz
        return tz
