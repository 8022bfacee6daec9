"""Store methods for the health pulse."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from storage.models import Partnership, Pulse, PulseAnswer
from storage.queries.base import PAGE, Queries


class PulseQueries(Queries):
    # --- what the tick does -----------------------------------------------------------------
    async def partnerships_due_for_pulse(self, now: datetime) -> list[int]:
        """Partnerships whose monthly pulse is due, or not scheduled yet (NULL: made since the
        last tick, or before the pulse existed): one query, two searches of the pulse_next_at
        index (SQLite's MULTI-INDEX OR, PostgreSQL's BitmapOr; an ORDER BY would turn it into
        a scan of the whole index)."""
        query = (select(Partnership.id)
                 .where(or_(Partnership.pulse_next_at.is_(None), Partnership.pulse_next_at <= now),
                        Partnership.status == "active")  # a pending partnership has no pulse yet
                 .limit(PAGE))
        return list((await self._session.exec(query)).scalars().all())

    async def pulses_to_close(self, now: datetime) -> list[int]:
        query = (select(Pulse.id).where(Pulse.closes_at <= now, Pulse.closed_at.is_(None))
                 .order_by(Pulse.closes_at).limit(PAGE))
        return list((await self._session.exec(query)).scalars().all())

    # --- pulses -----------------------------------------------------------------------------
    async def open_pulse(self, partnership_id: int) -> Pulse | None:
        return (await self._session.exec(
            select(Pulse).where(Pulse.partnership_id == partnership_id, Pulse.closed_at.is_(None))
            .order_by(Pulse.opened_at.desc()))).scalars().first()

    async def pulse_of_period(self, partnership_id: int, period: str) -> Pulse | None:
        return (await self._session.exec(
            select(Pulse).where(Pulse.partnership_id == partnership_id, Pulse.period == period))).scalars().first()

    async def last_closed_pulse(self, partnership_id: int) -> Pulse | None:
        return (await self._session.exec(
            select(Pulse).where(Pulse.partnership_id == partnership_id, Pulse.closed_at.is_not(None))
            .order_by(Pulse.closed_at.desc()))).scalars().first()

    async def pulse_answers(self, pulse_id: int) -> list[PulseAnswer]:
        return list((await self._session.exec(
            select(PulseAnswer).where(PulseAnswer.pulse_id == pulse_id)
            .order_by(PulseAnswer.side, PulseAnswer.answered_at, PulseAnswer.person_id))).scalars().all())

    async def pulse_answer(self, pulse_id: int, person_id: int) -> PulseAnswer | None:
        return await self._session.get(PulseAnswer, (pulse_id, person_id))
