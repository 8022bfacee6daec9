"""Store methods for handoffs (H-n)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from storage.models import Handoff
from storage.queries.base import Cursor, Page, Queries


class HandoffQueries(Queries):
    async def handoff(self, workspace_id: int, number: int) -> Handoff | None:
        return await self._first(select(Handoff).where(Handoff.workspace_id == workspace_id,
                                                       Handoff.number == number))

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
