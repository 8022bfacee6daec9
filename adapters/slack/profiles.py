"""A Slack user's profile from users.info (timezone; owner or admin of the workspace; email where
the app has users:read.email), fetched once per user per process and again after PROFILE_TTL,
so a demoted admin loses the right soon."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import NamedTuple

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import OneWorkspace, WorkspaceClients

log = logging.getLogger(__name__)

PROFILE_TTL_SECONDS = 600.0


class SlackTimezones:
    def __init__(self, client: AsyncWebClient, timeout: float = 1.5, clients: WorkspaceClients | None = None):
        self.client = client
        self.clients = clients or OneWorkspace(client)  # asks with the workspace's own token
        self.timeout = timeout  # the lookup sits on the ack path of someone's first command
        self._known: dict[tuple[str, str], tuple[float, dict]] = {}

    async def _user(self, team: str, user: str) -> dict | None:
        key = (team, user)
        known = self._known.get(key)
        if known and time.monotonic() - known[0] < PROFILE_TTL_SECONDS:
            return known[1]
        try:
            client = await self.clients.of(team)
            response = await asyncio.wait_for(client.users_info(user=user), self.timeout)
        except Exception as error:  # a slow or failing Slack must not fail the command
            log.warning("users.info for %s failed: %s", user, error)
            return None  # not remembered: try again next time
        found = response.get("user") or {}
        self._known[key] = (time.monotonic(), found)
        return found

    async def of(self, team: str, user: str) -> str | None:
        """Their timezone (IANA), when Slack knows it."""
        return ((await self._user(team, user)) or {}).get("tz")

    async def of_caller(self, team: str, user: str) -> CallerProfile:
        """Their timezone, whether they own or administer the workspace as Slack says (False
        when Slack cannot be asked) and their email: one users.info, for the person typing a command."""
        found = (await self._user(team, user)) or {}
        profile = found.get("profile") if isinstance(found.get("profile"), dict) else {}
        email = profile.get("email") if isinstance(profile.get("email"), str) else None
        return CallerProfile(found.get("tz"), bool(found.get("is_owner") or found.get("is_admin")
                                                   or found.get("is_primary_owner")), email)


class CallerProfile(NamedTuple):
    timezone: str | None
    admin: bool
    email: str | None  # None without the users:read.email scope
