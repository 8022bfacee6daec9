"""Store methods the tick uses: what is due now, and claiming it (mixed into Store).

Each selection returns ids only; the tick then handles each id in a transaction of its
own, re-reading the row and claiming the work, so one bad record never blocks the rest.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Claim, Commitment, Handoff, Meeting, MeetingSeries, PeerSync, SyncAnswer, SyncSeries

BATCH = 500


class CadenceQueries:
    session: AsyncSession

    async def claim(self, key: str, now: datetime) -> bool:
        """Record that the work named `key` is being done; False when it was done before.
        On PostgreSQL a concurrent claimer of the same key waits for this transaction and
        then finds it taken."""
        insert = postgresql.insert if self.session.bind.dialect.name == "postgresql" else sqlite.insert
        result = await self.session.exec(insert(Claim).values(key=key, at=now).on_conflict_do_nothing())
        return result.rowcount == 1

    async def _ids(self, query) -> list:
        return list((await self.session.exec(query.limit(BATCH))).all())

    async def due_series(self, now: datetime) -> list[int]:
        return [r[0] for r in await self._ids(
            select(SyncSeries.id).where(SyncSeries.next_run_at <= now).order_by(SyncSeries.next_run_at))]

    async def syncs_to_nudge(self, now: datetime, prompted_before: datetime, max_nudges: int) -> list[tuple[int, int]]:
        """(peer sync id, person id) of managers prompted long enough ago who have not answered
        and were not nudged in the last day."""
        return [tuple(r) for r in await self._ids(
            select(SyncAnswer.peer_sync_id, SyncAnswer.person_id)
            .join(PeerSync, PeerSync.id == SyncAnswer.peer_sync_id)
            .where(PeerSync.digest_at.is_(None), PeerSync.deadline_at > now,
                   SyncAnswer.answered_at.is_(None), SyncAnswer.prompted_at <= prompted_before,
                   SyncAnswer.nudges < max_nudges,
                   or_(SyncAnswer.last_nudged_at.is_(None), SyncAnswer.last_nudged_at <= now - timedelta(days=1)))
        )]

    async def syncs_past_deadline(self, now: datetime) -> list[int]:
        return [r[0] for r in await self._ids(
            select(PeerSync.id).where(PeerSync.digest_at.is_(None), PeerSync.deadline_at <= now))]

    async def commitments_due_for_cadence(self, now: datetime) -> list[int]:
        return [r[0] for r in await self._ids(
            select(Commitment.id).where(Commitment.status == "open", Commitment.cadence_at <= now)
            .order_by(Commitment.cadence_at))]

    async def handoffs_to_follow_up(self, accept_before: datetime, stale_before: datetime,
                                    open_stages: tuple[str, ...]) -> list[int]:
        unaccepted = and_(Handoff.accepted_at.is_(None), Handoff.accept_nudged_at.is_(None),
                          Handoff.created_at <= accept_before)
        stale = and_(Handoff.stage_changed_at <= stale_before,
                     or_(Handoff.stale_reported_at.is_(None), Handoff.stale_reported_at < Handoff.stage_changed_at))
        return [r[0] for r in await self._ids(
            select(Handoff.id).where(Handoff.stage.in_(open_stages), Handoff.declined_at.is_(None),
                                     or_(unaccepted, stale)))]

    async def due_meeting_series(self, now: datetime) -> list[int]:
        return [r[0] for r in await self._ids(
            select(MeetingSeries.id).where(MeetingSeries.next_start_at <= now, MeetingSeries.stopped_at.is_(None))
            .order_by(MeetingSeries.next_start_at))]

    async def meetings_due_for_cadence(self, now: datetime) -> list[int]:
        """Meetings whose end prompt or next nudge is due."""
        return [r[0] for r in await self._ids(
            select(Meeting.id).where(Meeting.closed_at.is_(None), Meeting.cadence_at <= now)
            .order_by(Meeting.cadence_at))]
