"""Slack Connect: one channel shared by two companies, each with its own workspace.

A person is their own workspace's, wherever they type or are mentioned: a mentioned user's
home workspace comes from users.info (`team_id`), asked with the token of the workspace the
command came from, and is remembered (a user's home workspace never changes). A workspace that
has not installed the app cannot be reached: its people are told where to install it, or the
colleague who mentioned them is, to pass the link on.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from adapters.slack.clients import WorkspaceClients

log = logging.getLogger(__name__)


def not_installed_line(install_url: str) -> str:
    """What a person whose workspace has not installed the app is told (one line)."""
    return f"Partnerbot is not installed in your company's Slack workspace yet: install it at {install_url}"


def mentioned_not_installed_line(names: list[str], install_url: str) -> str:
    """What the caller is told when they mention people whose workspace has not installed the app."""
    who = " and ".join(f"@{name}" for name in names)
    verb = "works" if len(names) == 1 else "work"
    return (f"{who} {verb} in a Slack workspace that has not installed Partnerbot, so nothing was changed: "
            f"pass them the install link {install_url}, then run the command again once it is installed.")


class HomeTeams:
    """The home workspace of Slack users, and whether a workspace has the app installed."""

    def __init__(self, clients: WorkspaceClients, has_installation: Callable[[str], Awaitable[bool]],
                 timeout: float = 1.5):
        self.clients = clients
        self.has_installation = has_installation
        self.timeout = timeout  # on the ack path of the command that mentions them
        self._homes: dict[str, str] = {}  # user id -> home team id (Slack user ids are unique across Slack)

    async def of(self, asking_team: str, user: str) -> str | None:
        """`user`'s home workspace as users.info tells `asking_team`; None when Slack cannot say."""
        if user in self._homes:
            return self._homes[user]
        try:
            client = await self.clients.of(asking_team)
            response = await asyncio.wait_for(client.users_info(user=user), self.timeout)
        except Exception as error:  # the command goes on, the person read as the caller's workspace's
            log.warning("users.info for %s failed: %s", user, error)
            return None
        found = response.get("user") if isinstance(response.get("user"), dict) else {}
        home = found.get("team_id")
        if not isinstance(home, str) or not home:
            return None
        self._homes[user] = home
        return home
