"""Store methods for the web dashboard: its one-time sign-in links, its browser sessions and the
snapshots of its overview.

Both are looked up by the SHA-256 of their token (the caller hashes it): the raw tokens live
only in the link and in the browser's cookie. The tick forgets both a day after they stop working
(handlers/dashboard/jobs.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update

from storage.models import DashboardSession, DashboardSignIn, OverviewSnapshot
from storage.queries.base import Cursor, Page, Queries


class DashboardQueries(Queries):
    async def take_dashboard_sign_in(self, token_hash: str, now: datetime) -> DashboardSignIn | None:
        """Use a sign-in link: its row when it was live and unused, marked used in the same
        statement (so two browsers racing with one link cannot both get in); None otherwise."""
        result = await self._session.exec(
            update(DashboardSignIn)
            .where(DashboardSignIn.token_hash == token_hash, DashboardSignIn.used_at.is_(None),
                   DashboardSignIn.expires_at > now)
            .values(used_at=now))
        if result.rowcount != 1:
            return None
        return await self._session.get(DashboardSignIn, token_hash)

    async def live_dashboard_session(self, token_hash: str, now: datetime) -> DashboardSession | None:
        found = await self._session.get(DashboardSession, token_hash)
        if found is None or found.ended_at is not None or found.expires_at <= now:
            return None
        return found

    async def end_dashboard_sessions(self, now: datetime, *, person_id: int | None = None,
                                     token_hash: str | None = None) -> int:
        """End one session (by its hash) or every live one of a person; how many ended."""
        where = [DashboardSession.ended_at.is_(None), DashboardSession.expires_at > now]
        where.append(DashboardSession.person_id == person_id if token_hash is None
                     else DashboardSession.token_hash == token_hash)
        result = await self._session.exec(update(DashboardSession).where(*where).values(ended_at=now))
        return result.rowcount

    # --- the overview's snapshots (handlers/reports/overview_snapshot.py) -------------------------
    async def overview_snapshot(self, workspace_id: int, scope_key: str) -> OverviewSnapshot | None:
        return await self._first(select(OverviewSnapshot).where(OverviewSnapshot.workspace_id == workspace_id,
                                                                OverviewSnapshot.scope_key == scope_key))

    async def overview_viewed(self, snapshot_id: int, now: datetime) -> None:
        await self._session.exec(update(OverviewSnapshot).where(OverviewSnapshot.id == snapshot_id)
                                 .values(viewed_at=now))

    async def keep_overview_snapshot(self, workspace_id: int, scope_key: str, partnership_ids: list[int],
                                     computed_at: datetime, payload: dict) -> None:
        """Store a freshly computed overview (someone looked at it: it is computed for a view), over
        the older one of that set if any: two processes computing the same set at once both
        succeed, and the later computation stays."""
        values = {"workspace_id": workspace_id, "scope_key": scope_key, "partnership_ids": partnership_ids,
                  "computed_at": computed_at, "viewed_at": computed_at, "payload": payload}
        newer = {key: values[key] for key in ("computed_at", "viewed_at", "payload")}
        await self._session.exec(self._insert(OverviewSnapshot).values(**values).on_conflict_do_update(
            index_elements=["workspace_id", "scope_key"], set_=newer,
            where=OverviewSnapshot.computed_at <= computed_at))

    async def old_overview_snapshots(self, before: datetime, after: Cursor = None) -> Page:
        """Ids of snapshots nobody viewed since `before`."""
        order = (OverviewSnapshot.id,)
        return await self._page(select(*order).where(OverviewSnapshot.viewed_at < before), order, after)

    async def forget_overview_snapshots(self, ids: list[int], before: datetime) -> int:
        result = await self._session.exec(delete(OverviewSnapshot).where(OverviewSnapshot.id.in_(ids),
                                                                         OverviewSnapshot.viewed_at < before))
        return result.rowcount

    # --- retention: what the tick forgets -----------------------------------------------------
    async def old_dashboard_sign_ins(self, before: datetime, after: Cursor = None) -> Page:
        """The hashes of sign-in links that stopped working before `before`, used or not."""
        order = (DashboardSignIn.token_hash,)
        return await self._page(select(*order).where(DashboardSignIn.expires_at < before), order, after)

    async def forget_dashboard_sign_ins(self, hashes: list[str], before: datetime) -> int:
        result = await self._session.exec(delete(DashboardSignIn).where(DashboardSignIn.token_hash.in_(hashes),
                                                                        DashboardSignIn.expires_at < before))
        return result.rowcount

    async def old_dashboard_sessions(self, before: datetime, after: Cursor = None) -> Page:
        """The hashes of sessions that expired or were ended before `before`."""
        order = (DashboardSession.token_hash,)
        return await self._page(select(*order).where(_stopped_before(before)), order, after)

    async def forget_dashboard_sessions(self, hashes: list[str], before: datetime) -> int:
        result = await self._session.exec(delete(DashboardSession).where(DashboardSession.token_hash.in_(hashes),
                                                                         _stopped_before(before)))
        return result.rowcount


def _stopped_before(before: datetime):
    """A session that stopped working before `before`: it expired, or was ended (logout, signout)."""
    return or_(DashboardSession.expires_at < before, DashboardSession.ended_at < before)
