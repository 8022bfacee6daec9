"""Store methods for commitments (C-n)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select, union

from storage.models import Commitment, Handoff
from storage.queries.base import Cursor, Page, Queries
from storage.queries.handoffs import handoff_date_watcher, open_handoffs_dated_by


class CommitmentQueries(Queries):
    async def commitment(self, workspace_id: int, number: int) -> Commitment | None:
        return await self._first(select(Commitment).where(Commitment.workspace_id == workspace_id,
                                                          Commitment.number == number))

    async def commitment_for(self, workspace_id: int, number: int, person_id: int) -> Commitment | None:
        """C-n as the caller means it: this workspace's when it is theirs, else one they own on
        their other platform (a sync pledge or an action item lives in its partnership's
        workspace: the Done button of its reminder says its number there), else this workspace's."""
        here = await self.commitment(workspace_id, number)
        if here and here.owner_id == person_id:
            return here
        query = select(Commitment).where(Commitment.number == number, Commitment.owner_id == person_id)
        return await self._first(query.order_by(Commitment.id)) or here

    async def open_commitments(
        self, workspace_id: int | None, *, owner_id: int | None = None, due_before: datetime | None = None,
        account: str | None = None, handoff_ids: Sequence[int] = (), limit: int = 50,
    ) -> list[Commitment]:
        query = select(Commitment).where(Commitment.status == "open")
        if workspace_id is not None:  # None: a person's items on every platform they linked
            query = query.where(Commitment.workspace_id == workspace_id)
        if owner_id is not None:
            query = query.where(Commitment.owner_id == owner_id)
        if due_before is not None:
            query = query.where(Commitment.due_at < due_before)
        if account is not None:
            match = func.lower(Commitment.account).contains(account.lower(), autoescape=True)
            if handoff_ids:
                match = or_(match, Commitment.handoff_id.in_(handoff_ids))
            query = query.where(match)
        return await self._all(query.order_by(Commitment.due_at, Commitment.number).limit(limit))

    async def people_due_for_reminders(self, now: datetime, handoffs_by: date, open_stages: tuple[str, ...],
                                       after: Cursor = None) -> Page:
        """(workspace id, person id) of everyone owed a commitment's reminder or overdue notice, or
        who may be owed a handoff's (an open one dated `handoffs_by` or before, whose overdue
        notice is not sent: its sender's until accepted, then its receiver's). What one person is
        owed goes out together, as one message."""
        owners = select(Commitment.workspace_id, Commitment.owner_id.label("person_id")).where(
            Commitment.status == "open", Commitment.cadence_at <= now)
        watchers = open_handoffs_dated_by(handoffs_by, open_stages,
                                          Handoff.workspace_id, handoff_date_watcher().label("person_id"))
        due = union(owners, watchers).subquery()  # UNION: each person once
        order = (due.c.workspace_id, due.c.person_id)
        return await self._page(select(*order), order, after, item=tuple)

    async def commitments_due_for_cadence(self, workspace_id: int, owner_id: int, now: datetime) -> list[Commitment]:
        """One owner's open commitments of one workspace whose reminder or overdue notice is due,
        in the order they are listed (due first, then number)."""
        return await self._all(select(Commitment).where(
            Commitment.workspace_id == workspace_id, Commitment.owner_id == owner_id, Commitment.status == "open",
            Commitment.cadence_at <= now).order_by(Commitment.due_at, Commitment.number))
