"""Slack installations and OAuth states in the project's database (SQLite or PostgreSQL).

Plain rows in, plain dicts out: the slack_sdk stores built on these (adapters/slack/installations.py)
translate to and from slack_sdk's Installation; storage imports no platform SDK.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Database
from storage.models import SlackInstallation, SlackOAuthState, SlackOrgTeam
from storage.outbox import resume_parked

FIELDS = tuple(name for name in SlackInstallation.model_fields if name != "id")
# How the Slack deliverer says a message is parked for want of a live installation
# (adapters.slack.clients.not_installed): a reinstall sends those messages again.
PARKED_PREFIX = "not installed in Slack workspace "
_KEYS = ("enterprise_id", "team_id")  # None in, '' in the row (a unique key cannot hold NULL)


def _row(installation: dict[str, Any]) -> dict[str, Any]:
    row = {name: installation.get(name) for name in FIELDS}
    for key in _KEYS:
        row[key] = row[key] or ""
    row["is_enterprise_install"] = bool(row["is_enterprise_install"])
    return row


def _dict(row: SlackInstallation) -> dict[str, Any]:
    found = {name: getattr(row, name) for name in FIELDS}
    for key in _KEYS:
        found[key] = found[key] or None
    return found


class SlackInstallations:
    """One row per workspace (or Enterprise Grid org, its team None) and the install links' states."""

    def __init__(self, db: Database, clock: Callable[[], datetime]):
        self.db = db
        self.clock = clock

    def _insert(self, model: type = SlackInstallation):
        return (sqlite.insert if self.db.is_sqlite else postgresql.insert)(model)

    async def save(self, installation: dict[str, Any]) -> None:
        """Keep `installation` (slack_sdk Installation field names) as its workspace's, replacing
        the one before: a reinstall, or a token rotated. In one statement, so two installs of one
        workspace at once leave one row."""
        row = _row(installation)
        update = {name: value for name, value in row.items() if name not in _KEYS}
        statement = self._insert().values(**row).on_conflict_do_update(index_elements=list(_KEYS), set_=update)
        async with self.db.session() as session:
            await session.exec(statement)
            await self._resume_parked(session, row["enterprise_id"], row["team_id"])

    async def _resume_parked(self, session, enterprise_id: str, team_id: str) -> None:
        """A workspace (re)installed: its messages parked meanwhile are due again, in the order
        they were owed. An org-wide install resumes every workspace of the org seen so far."""
        # by the workspace the reason names: a direct message is sent through its recipient's own
        # workspace, which is not always the one whose record it is about (Slack Connect)
        if team_id:
            teams = [team_id]
        else:
            teams = list((await session.exec(
                select(SlackOrgTeam.team_id).where(SlackOrgTeam.enterprise_id == enterprise_id))).scalars())
        if teams:
            await session.exec(resume_parked(platform="slack", reasons=[f"{PARKED_PREFIX}{team}:" for team in teams],
                                             now=self.clock()))

    async def find(self, *, enterprise_id: str | None, team_id: str | None) -> dict[str, Any] | None:
        """The installation of exactly this workspace (team_id None: the org-wide one of enterprise_id)."""
        query = select(SlackInstallation).where(SlackInstallation.enterprise_id == (enterprise_id or ""),
                                                SlackInstallation.team_id == (team_id or ""))
        async with self.db.session() as session:
            row = (await session.exec(query)).scalars().first()
        return _dict(row) if row else None

    async def find_for_team(self, team_id: str) -> dict[str, Any] | None:
        """The installation that serves workspace `team_id`: its own, else its org's org-wide one
        (the org as note_org_team recorded it). What the outbox knows of a message's workspace is
        its team id alone."""
        own = select(SlackInstallation).where(SlackInstallation.team_id == team_id).order_by(
            SlackInstallation.installed_at.desc()).limit(1)
        org = select(SlackInstallation).join(
            SlackOrgTeam, SlackOrgTeam.enterprise_id == SlackInstallation.enterprise_id).where(
            SlackOrgTeam.team_id == team_id, SlackInstallation.team_id == "",
            SlackInstallation.is_enterprise_install.is_(True))
        async with self.db.session() as session:
            row = (await session.exec(own)).scalars().first() or (await session.exec(org)).scalars().first()
        return _dict(row) if row else None

    async def note_org_team(self, team_id: str, enterprise_id: str) -> None:
        """Workspace `team_id` belongs to Enterprise Grid org `enterprise_id` (a request from it said so)."""
        statement = self._insert(SlackOrgTeam).values(team_id=team_id, enterprise_id=enterprise_id)
        statement = statement.on_conflict_do_update(index_elements=["team_id"], set_={"enterprise_id": enterprise_id})
        async with self.db.session() as session:
            await session.exec(statement)

    async def delete(self, *, enterprise_id: str | None, team_id: str | None) -> bool:
        """Forget the installation of this workspace (team_id None: the org-wide one); True if there was one."""
        statement = delete(SlackInstallation).where(SlackInstallation.enterprise_id == (enterprise_id or ""),
                                                    SlackInstallation.team_id == (team_id or ""))
        async with self.db.session() as session:
            return (await session.exec(statement)).rowcount > 0

    async def issue_state(self, state: str, lifetime: timedelta) -> None:
        """Remember an install link's state until `lifetime` from now; those expired go meanwhile."""
        now = self.clock()
        async with self.db.session() as session:
            await session.exec(delete(SlackOAuthState).where(SlackOAuthState.expires_at <= now))
            session.add(SlackOAuthState(state=state, expires_at=now + lifetime))

    async def consume_state(self, state: str) -> bool:
        """True once for a state issued and not expired; the state is gone after (a redirect replayed,
        or two at once, get False)."""
        statement = delete(SlackOAuthState).where(SlackOAuthState.state == state,
                                                  SlackOAuthState.expires_at > self.clock())
        async with self.db.session() as session:
            return (await session.exec(statement)).rowcount == 1
