"""Slack's installation and OAuth state stores (slack_sdk's async interfaces) on records the
wiring gives: the project's database (storage/installations.py), which this module does not
import (adapters never reach storage). bolt's OAuth flow saves through them, its authorize
middleware finds each request's token through them, and the outbox finds each workspace's.

An installation is one per workspace, or per Enterprise Grid org when installed org-wide (kept
with no team): find_installation and find_bot resolve (enterprise_id, team_id,
is_enterprise_install) the way slack_sdk's own SQL stores do.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)


class InstallationRecords(Protocol):
    """Where installations and states are kept (storage.installations.SlackInstallations)."""

    async def save(self, installation: dict[str, Any]) -> None: ...
    async def find(self, *, enterprise_id: str | None, team_id: str | None) -> dict[str, Any] | None: ...
    async def find_for_team(self, team_id: str) -> dict[str, Any] | None: ...
    async def note_org_team(self, team_id: str, enterprise_id: str) -> None: ...
    async def delete(self, *, enterprise_id: str | None, team_id: str | None) -> bool: ...
    async def issue_state(self, state: str, lifetime: timedelta) -> None: ...
    async def consume_state(self, state: str) -> bool: ...


def _at(epoch: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, timezone.utc) if epoch is not None else None


def _scopes(scopes: list[str] | str | None) -> str | None:
    return ",".join(scopes) if isinstance(scopes, list) else scopes


def workspace_key(enterprise_id: str | None, team_id: str | None,
                   is_enterprise_install: bool | None) -> tuple[str | None, str | None]:
    """An org-wide installation is the org's: kept, and found, without a team."""
    return enterprise_id, (None if is_enterprise_install or not team_id else team_id)


class DatabaseInstallationStore(AsyncInstallationStore):
    """bolt's AsyncInstallationStore on InstallationRecords. `on_change(team_id)` is told of every
    save and delete, so whoever keeps a client per workspace drops the one with the old token."""

    def __init__(self, records: InstallationRecords, on_change: Callable[[str | None], None] = lambda _team: None):
        self.records = records
        self.on_change = on_change

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        enterprise_id, team_id = workspace_key(installation.enterprise_id, installation.team_id,
                                                installation.is_enterprise_install)
        await self.records.save({
            "app_id": installation.app_id, "enterprise_id": enterprise_id,
            "enterprise_name": installation.enterprise_name, "enterprise_url": installation.enterprise_url,
            "team_id": team_id, "team_name": installation.team_name,
            "is_enterprise_install": bool(installation.is_enterprise_install), "token_type": installation.token_type,
            "bot_token": installation.bot_token, "bot_id": installation.bot_id,
            "bot_user_id": installation.bot_user_id, "bot_scopes": _scopes(installation.bot_scopes),
            "bot_refresh_token": installation.bot_refresh_token,
            "bot_token_expires_at": _at(installation.bot_token_expires_at),
            "user_id": installation.user_id, "user_token": installation.user_token,
            "user_scopes": _scopes(installation.user_scopes), "user_refresh_token": installation.user_refresh_token,
            "user_token_expires_at": _at(installation.user_token_expires_at),
            "installed_at": _at(installation.installed_at) or datetime.now(timezone.utc),
        })
        self.on_change(team_id)

    async def async_save_bot(self, bot: Bot) -> None:
        """A bot token rotated (bolt's find_bot path): the installation keeps its installer."""
        enterprise_id, team_id = workspace_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        found = await self.records.find(enterprise_id=enterprise_id, team_id=team_id)
        if found is None:
            return
        await self.records.save({**found, "bot_token": bot.bot_token, "bot_refresh_token": bot.bot_refresh_token,
                                 "bot_token_expires_at": _at(bot.bot_token_expires_at),
                                 "bot_scopes": _scopes(bot.bot_scopes)})
        self.on_change(team_id)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        """The workspace's (or org's) installation; with `user_id`, only if that user made it
        (we keep the latest installation only, and ask for no user tokens)."""
        enterprise_id, team_id = workspace_key(enterprise_id, team_id, is_enterprise_install)
        found = await self.records.find(enterprise_id=enterprise_id, team_id=team_id)
        if found is None or (user_id is not None and found["user_id"] != user_id):
            return None
        return Installation(**found)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        installation = await self.async_find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                                          is_enterprise_install=is_enterprise_install)
        return installation.to_bot() if installation and installation.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        if user_id is not None:  # a user's own token: we keep none apart from the installation
            return
        if await self.records.delete(enterprise_id=enterprise_id, team_id=team_id):
            self.on_change(team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def bot_token_of(self, team_id: str) -> str | None:
        """The bot token that reaches workspace `team_id`, for the outbox (it knows the team only)."""
        found = await self.records.find_for_team(team_id)
        return found["bot_token"] if found else None

    async def installation_for_team(self, team_id: str) -> Installation | None:
        """The installation that reaches workspace `team_id` (its own, or its org's org-wide one),
        with the refresh token and expiry its bot token rotates by."""
        found = await self.records.find_for_team(team_id)
        return Installation(**found) if found else None


class DatabaseOAuthStateStore(AsyncOAuthStateStore):
    """bolt's AsyncOAuthStateStore: a state is good for one redirect within STATE_LIFETIME."""

    def __init__(self, records: InstallationRecords, lifetime: timedelta = STATE_LIFETIME):
        self.records = records
        self.lifetime = lifetime

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args, **kwargs) -> str:
        state = secrets.token_urlsafe(32)
        await self.records.issue_state(state, self.lifetime)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(state) and await self.records.consume_state(state)
