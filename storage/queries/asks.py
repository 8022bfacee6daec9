"""Store methods for asks (Q-n)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, or_, select

from storage.models import Ask
from storage.queries.base import PAGE, Queries

OPEN_ASK = ("open", "accepted")  # waiting for an answer


class AskQueries(Queries):
    async def ask(self, workspace_id: int, number: int) -> Ask | None:
        query = select(Ask).where(Ask.workspace_id == workspace_id, Ask.number == number)
        return (await self._session.exec(query)).scalars().first()

    async def ask_for(self, workspace_id: int, number: int, person_id: int) -> Ask | None:
        """Q-n as the caller means it: this workspace's when they asked it or were asked, else
        one of theirs on their other platform (the buttons of a request say its number where
        it was made), else this workspace's."""
        here = await self.ask(workspace_id, number)
        if here and person_id in (here.person_id, here.asker_id):
            return here
        query = (select(Ask).where(Ask.number == number, or_(Ask.person_id == person_id, Ask.asker_id == person_id))
                 .order_by(case((Ask.person_id == person_id, 0), else_=1), Ask.id))
        return (await self._session.exec(query)).scalars().first() or here

    async def open_asks(self, workspace_id: int | None, *, person_id: int, limit: int = 50) -> list[Ask]:
        """Asks still waiting for an answer that `person_id` was asked or is waiting on, soonest
        due first (those without a date after those with one); `workspace_id` None: on every
        platform they linked."""
        query = select(Ask).where(Ask.status.in_(OPEN_ASK), or_(Ask.person_id == person_id, Ask.asker_id == person_id))
        if workspace_id is not None:
            query = query.where(Ask.workspace_id == workspace_id)
        query = query.order_by(Ask.due_date.is_(None), Ask.due_date, Ask.created_at, Ask.id).limit(limit)
        return list((await self._session.exec(query)).scalars().all())

    async def asks_due_for_cadence(self, now: datetime) -> list[int]:
        """Asks whose nudge or escalation is due (a response clears cadence_at)."""
        query = select(Ask.id).where(Ask.cadence_at <= now).order_by(Ask.cadence_at).limit(PAGE)
        return list((await self._session.exec(query)).scalars().all())
