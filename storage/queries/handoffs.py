"""Store methods for handoffs (H-n)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select

from storage.models import Handoff
from storage.queries.base import Cursor, Page, Queries


class HandoffQueries(Queries):
    async def handoff(self, workspace_id: int, number: int) -> Handoff | None:
        return await self._first(select(Handoff).where(Handoff.workspace_id == workspace_id,
                                                       Handoff.number == number))

    async def handoff_for(self, workspace_id: int, number: int, person_id: int) -> Handoff | None:
        """H-n as the caller means it: one they handed over or received (this workspace's first;
        a handoff across two companies is numbered in its sender's workspace, and its receiver
        types its number from their own), else this workspace's."""
        theirs = or_(Handoff.from_id == person_id, Handoff.to_id == person_id)
        here_first = case((Handoff.workspace_id == workspace_id, 0), else_=1)
        return await self._first(select(Handoff).where(Handoff.number == number, theirs)
                                 .order_by(here_first, Handoff.id)) or await self.handoff(workspace_id, number)

    async def open_handoffs(
        self, workspace_id: int | None, *, stages: Sequence[str], person_id: int | None = None,
        account: str | None = None, limit: int = 50,
    ) -> list[Handoff]:
        query = select(Handoff).where(Handoff.stage.in_(stages), Handoff.declined_at.is_(None))
        if workspace_id is not None:
            query = query.where(Handoff.workspace_id == workspace_id)
        if person_id is not None:
            query = query.where(or_(Handoff.from_id == person_id, Handoff.to_id == person_id))
        if account is not None:
            query = query.where(func.lower(Handoff.account).contains(account.lower(), autoescape=True))
        # soonest due first; handoffs without a date after those with one
        return await self._all(query.order_by(Handoff.due_date.is_(None), Handoff.due_date, Handoff.number)
                               .limit(limit))

    async def handoffs_to_follow_up(self, accept_before: datetime, stale_before: datetime,
                                    open_stages: tuple[str, ...], after: Cursor = None) -> Page:
        """Open handoffs not accepted in time and not nudged yet, or stuck in their stage and
        not reported since they entered it."""
        unaccepted = and_(Handoff.accepted_at.is_(None), Handoff.accept_nudged_at.is_(None),
                          Handoff.created_at <= accept_before)
        stale = and_(Handoff.stage_changed_at <= stale_before,
                     or_(Handoff.stale_reported_at.is_(None), Handoff.stale_reported_at < Handoff.stage_changed_at))
        order = (Handoff.id,)
        return await self._page(
            select(*order).where(Handoff.stage.in_(open_stages), Handoff.declined_at.is_(None), or_(unaccepted, stale)),
            order, after)

    async def handoffs_with_dates_due_for(self, workspace_id: int, person_id: int, by: date,
                                          open_stages: tuple[str, ...]) -> list[Handoff]:
        """One person's open handoffs of one workspace dated `by` or before whose overdue notice is
        not sent, of which they hear (handoff_date_watcher), soonest first: those whose reminder or
        overdue notice may be due."""
        return await self._all(open_handoffs_dated_by(by, open_stages).where(
            Handoff.workspace_id == workspace_id, handoff_date_watcher() == person_id,
        ).order_by(Handoff.due_date, Handoff.number))


def handoff_date_watcher():
    """Who hears of a handoff's `by` date: its sender until the receiver accepts it, then the receiver."""
    return case((Handoff.accepted_at.is_(None), Handoff.from_id), else_=Handoff.to_id)


def open_handoffs_dated_by(by: date, open_stages: tuple[str, ...], *columns):
    """Open (not declined) handoffs dated `by` or before whose overdue notice is not sent."""
    return select(*(columns or (Handoff,))).where(
        Handoff.stage.in_(open_stages), Handoff.declined_at.is_(None), Handoff.due_date <= by,
        Handoff.overdue_notified_at.is_(None))
