"""Store methods for the weekly peer sync: its series (one per manager), its syncs (S-n) and
the managers' parts in them; what the tick finds due; and a page of prompts at once
(handlers/peer_sync/fanout.py)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from storage.models import Commitment, PeerSync, SyncAnswer, SyncSeries
from storage.queries.base import Cursor, Page, Queries


class PeerSyncQueries(Queries):
    # --- series -------------------------------------------------------------------------------
    async def series(self, partnership_id: int, person_id: int) -> SyncSeries | None:
        return await self._first(select(SyncSeries).where(
            SyncSeries.partnership_id == partnership_id, SyncSeries.person_id == person_id))

    async def series_of_person(self, person_id: int) -> list[SyncSeries]:
        return await self._all(select(SyncSeries).where(SyncSeries.person_id == person_id))

    # --- syncs and their parts ------------------------------------------------------------------
    async def peer_sync_for(self, workspace_id: int, number: int, person_id: int) -> PeerSync | None:
        """S-n in this workspace, else one the caller takes part in on their other platform."""
        here = await self._first(select(PeerSync).where(
            PeerSync.workspace_id == workspace_id, PeerSync.number == number))
        if here:
            return here
        return await self._first(
            select(PeerSync).join(SyncAnswer, SyncAnswer.peer_sync_id == PeerSync.id)
            .where(PeerSync.number == number, SyncAnswer.person_id == person_id).order_by(PeerSync.id)
        )

    async def peer_sync_of_week(self, partnership_id: int, week: str) -> PeerSync | None:
        return await self._first(select(PeerSync).where(
            PeerSync.partnership_id == partnership_id, PeerSync.week == week))

    async def previous_sync(self, sync: PeerSync) -> PeerSync | None:
        return await self._first(
            select(PeerSync).where(PeerSync.partnership_id == sync.partnership_id, PeerSync.week < sync.week)
            .order_by(PeerSync.week.desc())
        )

    async def sync_answers(self, peer_sync_id: int) -> list[SyncAnswer]:
        return await self._all(select(SyncAnswer).where(SyncAnswer.peer_sync_id == peer_sync_id)
                               .order_by(SyncAnswer.side))

    async def sync_answer(self, peer_sync_id: int, person_id: int) -> SyncAnswer | None:
        return await self._session.get(SyncAnswer, (peer_sync_id, person_id))

    async def pledges(self, peer_sync_id: int) -> list[Commitment]:
        return await self._all(select(Commitment).where(Commitment.peer_sync_id == peer_sync_id)
                               .order_by(Commitment.number))

    # --- what the tick finds due ----------------------------------------------------------------
    async def due_series(self, now: datetime, after: Cursor = None) -> Page:
        order = (SyncSeries.next_run_at, SyncSeries.id)
        return await self._page(select(*order).where(SyncSeries.next_run_at <= now), order, after)

    async def syncs_to_nudge(self, now: datetime, prompted_before: datetime, max_nudges: int,
                             after: Cursor = None) -> Page:
        """(peer sync id, person id) of managers prompted long enough ago who have not answered
        and were not nudged in the last day."""
        order = (SyncAnswer.peer_sync_id, SyncAnswer.person_id)
        return await self._page(
            select(*order)
            .join(PeerSync, PeerSync.id == SyncAnswer.peer_sync_id)
            .where(PeerSync.digest_at.is_(None), PeerSync.deadline_at > now,
                   SyncAnswer.answered_at.is_(None), SyncAnswer.prompted_at <= prompted_before,
                   SyncAnswer.nudges < max_nudges,
                   or_(SyncAnswer.last_nudged_at.is_(None), SyncAnswer.last_nudged_at <= now - timedelta(days=1))),
            order, after, item=tuple)

    async def syncs_past_deadline(self, now: datetime, after: Cursor = None) -> Page:
        order = (PeerSync.deadline_at, PeerSync.id)
        return await self._page(
            select(*order).where(PeerSync.digest_at.is_(None), PeerSync.deadline_at <= now), order, after)

    # --- a page of weekly prompts in one transaction --------------------------------------------
    async def series_with_partners(self, series_ids: list[int]) -> list[SyncSeries]:
        """The series `series_ids` and the other series of their partnerships."""
        of_page = select(SyncSeries.partnership_id).where(SyncSeries.id.in_(series_ids))
        return await self._all(select(SyncSeries).where(SyncSeries.partnership_id.in_(of_page)))

    async def syncs_of_weeks(self, partnership_ids: Iterable[int],
                             weeks: Iterable[str]) -> dict[tuple[int, str], PeerSync]:
        """The syncs already opened, by (partnership id, week)."""
        query = select(PeerSync).where(PeerSync.partnership_id.in_(set(partnership_ids)), PeerSync.week.in_(set(weeks)))
        return {(s.partnership_id, s.week): s for s in await self._all(query)}

    async def answers_of(self, sync_ids: Iterable[int]) -> list[SyncAnswer]:
        """Their managers' parts, each sync's in sync_answers' order."""
        return await self._all(select(SyncAnswer).where(SyncAnswer.peer_sync_id.in_(set(sync_ids)))
                               .order_by(SyncAnswer.peer_sync_id, SyncAnswer.side))
