"""Store methods for the health pulse (mixed into Store)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Partnership, PartnershipMember, Pulse, PulseAnswer

_BATCH = 500  # as the other selections of the tick (storage.queries.peer_sync.BATCH)


class PulseQueries:
    session: AsyncSession

    # --- what the tick does -----------------------------------------------------------------
    async def partnerships_due_for_pulse(self, now: datetime) -> list[int]:
        """Partnerships whose monthly pulse is due, or not scheduled yet (NULL: made since the
        last tick, or before the pulse existed): one query, two searches of the pulse_next_at
        index (SQLite's MULTI-INDEX OR, PostgreSQL's BitmapOr; an ORDER BY would turn it into
        a scan of the whole index)."""
        query = (select(Partnership.id)
                 .where(or_(Partnership.pulse_next_at.is_(None), Partnership.pulse_next_at <= now))
                 .limit(_BATCH))
        return list((await self.session.exec(query)).scalars().all())

    async def pulses_to_close(self, now: datetime) -> list[int]:
        query = (select(Pulse.id).where(Pulse.closes_at <= now, Pulse.closed_at.is_(None))
                 .order_by(Pulse.closes_at).limit(_BATCH))
        return list((await self.session.exec(query)).scalars().all())

    async def lock_partnership(self, partnership_id: int) -> Partnership | None:
        """The partnership, re-read and locked until the transaction ends (PostgreSQL: FOR NO
        KEY UPDATE, which rows referring to it do not wait for; SQLite has one writer anyway):
        opening a pulse, by the tick or by `pulse`, happens one at a time per partnership."""
        query = (select(Partnership).where(Partnership.id == partnership_id)
                 .with_for_update(key_share=True).execution_options(populate_existing=True))
        return (await self.session.exec(query)).scalars().first()

    # --- pulses -----------------------------------------------------------------------------
    async def open_pulse(self, partnership_id: int) -> Pulse | None:
        return (await self.session.exec(
            select(Pulse).where(Pulse.partnership_id == partnership_id, Pulse.closed_at.is_(None))
            .order_by(Pulse.opened_at.desc()))).scalars().first()

    async def pulse_of_period(self, partnership_id: int, period: str) -> Pulse | None:
        return (await self.session.exec(
            select(Pulse).where(Pulse.partnership_id == partnership_id, Pulse.period == period))).scalars().first()

    async def last_closed_pulse(self, partnership_id: int) -> Pulse | None:
        return (await self.session.exec(
            select(Pulse).where(Pulse.partnership_id == partnership_id, Pulse.closed_at.is_not(None))
            .order_by(Pulse.closed_at.desc()))).scalars().first()

    async def pulse_answers(self, pulse_id: int) -> list[PulseAnswer]:
        return list((await self.session.exec(
            select(PulseAnswer).where(PulseAnswer.pulse_id == pulse_id)
            .order_by(PulseAnswer.side, PulseAnswer.answered_at, PulseAnswer.person_id))).scalars().all())

    async def pulse_answer(self, pulse_id: int, person_id: int) -> PulseAnswer | None:
        return await self.session.get(PulseAnswer, (pulse_id, person_id))

    async def member_partnerships(self, person_id: int) -> list[Partnership]:
        """Every partnership the person is a member of (either side, manager or rep)."""
        return list((await self.session.exec(
            select(Partnership).join(PartnershipMember, PartnershipMember.partnership_id == Partnership.id)
            .where(PartnershipMember.person_id == person_id).order_by(Partnership.id))).scalars().all())
