"""Store methods the tick uses: what is due now, and claiming it (mixed into Store).

Each selection returns one page of at most BATCH items, each as (cursor, item): the item
(an id, or a key) and the values it is ordered by. Asked again with the last cursor it
returns the next page, so one tick walks everything due a page at a time, each row once,
and never holds more than a page (keyset paging: a page costs the same however deep).
The tick then handles each item in a transaction of its own, re-reading the row and
claiming the work, so one bad record never blocks the rest.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Claim, Commitment, Counter, Handoff, Identity, Meeting, MeetingSeries, OutboxMessage, Partnership,
    PartnershipMember, PeerSync, SyncAnswer, SyncSeries,
)

BATCH = 500

Page = list[tuple[tuple, Any]]  # (cursor, item)
Cursor = tuple | None  # None: from the first


class CadenceQueries:
    session: AsyncSession

    async def claim(self, key: str, now: datetime) -> bool:
        """Record that the work named `key` is being done; False when it was done before.
        On PostgreSQL a concurrent claimer of the same key waits for this transaction and
        then finds it taken."""
        result = await self.session.exec(self._dialect_insert(Claim).values(key=key, at=now).on_conflict_do_nothing())
        return result.rowcount == 1

    def _dialect_insert(self, model):
        """INSERT with the dialect's ON CONFLICT clauses (SQLite and PostgreSQL share them)."""
        return (postgresql.insert if self.session.bind.dialect.name == "postgresql" else sqlite.insert)(model)

    async def _page(self, query, order: tuple, after: Cursor, item=lambda row: row[-1]) -> Page:
        """The next BATCH rows of `query`, which selects the columns of `order`, after the row
        whose values are `after`; each row's item is its last column (the id) unless `item` says."""
        if after is not None:
            query = query.where(tuple_(*order) > tuple(after))
        rows = (await self.session.exec(query.order_by(*order).limit(BATCH))).all()
        return [(tuple(row), item(row)) for row in rows]

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

    async def commitments_due_for_cadence(self, now: datetime, after: Cursor = None) -> Page:
        order = (Commitment.cadence_at, Commitment.id)
        return await self._page(
            select(*order).where(Commitment.status == "open", Commitment.cadence_at <= now), order, after)

    async def handoffs_to_follow_up(self, accept_before: datetime, stale_before: datetime,
                                    open_stages: tuple[str, ...], after: Cursor = None) -> Page:
        unaccepted = and_(Handoff.accepted_at.is_(None), Handoff.accept_nudged_at.is_(None),
                          Handoff.created_at <= accept_before)
        stale = and_(Handoff.stage_changed_at <= stale_before,
                     or_(Handoff.stale_reported_at.is_(None), Handoff.stale_reported_at < Handoff.stage_changed_at))
        order = (Handoff.id,)
        return await self._page(
            select(*order).where(Handoff.stage.in_(open_stages), Handoff.declined_at.is_(None), or_(unaccepted, stale)),
            order, after)

    async def due_meeting_series(self, now: datetime, after: Cursor = None) -> Page:
        order = (MeetingSeries.next_start_at, MeetingSeries.id)
        return await self._page(
            select(*order).where(MeetingSeries.next_start_at <= now, MeetingSeries.stopped_at.is_(None)), order, after)

    async def meetings_due_for_cadence(self, now: datetime, after: Cursor = None) -> Page:
        """Meetings whose end prompt or next nudge is due."""
        order = (Meeting.cadence_at, Meeting.id)
        return await self._page(
            select(*order).where(Meeting.closed_at.is_(None), Meeting.cadence_at <= now), order, after)

    # --- a page of weekly prompts in one transaction (handlers.peer_sync.fanout) -------------------
    async def series_with_partners(self, series_ids: list[int]) -> list[SyncSeries]:
        """The series `series_ids` and the other series of their partnerships."""
        of_page = select(SyncSeries.partnership_id).where(SyncSeries.id.in_(series_ids))
        return await self._rows(select(SyncSeries).where(SyncSeries.partnership_id.in_(of_page)))

    async def partnerships_by_id(self, ids: Iterable[int]) -> dict[int, Partnership]:
        return {p.id: p for p in await self._rows(select(Partnership).where(Partnership.id.in_(set(ids))))}

    async def managers_of(self, partnership_ids: Iterable[int]) -> list[PartnershipMember]:
        """The managers of these partnerships, in Store.members' order."""
        return await self._rows(
            select(PartnershipMember)
            .where(PartnershipMember.partnership_id.in_(set(partnership_ids)), PartnershipMember.role == "manager")
            .order_by(PartnershipMember.partnership_id, PartnershipMember.side, PartnershipMember.added_at))

    async def syncs_of_weeks(self, partnership_ids: Iterable[int],
                             weeks: Iterable[str]) -> dict[tuple[int, str], PeerSync]:
        """The syncs already opened, by (partnership id, week)."""
        query = select(PeerSync).where(PeerSync.partnership_id.in_(set(partnership_ids)), PeerSync.week.in_(set(weeks)))
        return {(s.partnership_id, s.week): s for s in await self._rows(query)}

    async def answers_of(self, sync_ids: Iterable[int]) -> list[SyncAnswer]:
        """Their managers' parts, each sync's in Store.sync_answers' order."""
        return await self._rows(select(SyncAnswer).where(SyncAnswer.peer_sync_id.in_(set(sync_ids)))
                                .order_by(SyncAnswer.peer_sync_id, SyncAnswer.side))

    async def platforms_of_people(self, person_ids: Iterable[int]) -> dict[int, list[str]]:
        """Each person's platforms, in Store.platforms_of's order."""
        query = select(Identity.person_id, Identity.platform).where(Identity.person_id.in_(set(person_ids)))
        platforms: dict[int, list[str]] = {}
        for person_id, platform in (await self.session.exec(query.order_by(Identity.id))).all():
            platforms.setdefault(person_id, []).append(platform)
        return platforms

    async def claims_taken(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` were claimed before."""
        return set((await self.session.exec(select(Claim.key).where(Claim.key.in_(set(keys))))).scalars().all())

    async def claim_all(self, keys: list[str], now: datetime) -> bool:
        """Claim every key in one statement; False when another process took one meanwhile (the
        caller then rolls everything back). In sorted order: two processes claiming overlapping
        pages take the rows' locks in the same order and never deadlock."""
        if not keys:
            return True
        rows = [{"key": key, "at": now} for key in sorted(keys)]
        result = await self.session.exec(self._dialect_insert(Claim).values(rows).on_conflict_do_nothing())
        return result.rowcount == len(rows)

    async def take_numbers(self, workspace_id: int, kind: str, count: int) -> int:
        """The first of `count` consecutive reference numbers (Store.next_number, `count` at once)."""
        stmt = (self._dialect_insert(Counter).values(workspace_id=workspace_id, kind=kind, value=count)
                .on_conflict_do_update(index_elements=["workspace_id", "kind"], set_={"value": Counter.value + count})
                .returning(Counter.value))
        return (await self.session.exec(stmt)).scalar_one() - count + 1

    async def insert_all(self, model, rows: list[dict]) -> None:
        """Many rows in one statement (executemany), without reading their ids back."""
        if rows:
            await self.session.exec(self._dialect_insert(model), params=rows)

    async def enqueue_all(self, rows: list[dict]) -> None:
        """Owe many messages at once (Store.enqueue's rows); one already owed is left as it is."""
        if rows:
            insert = self._dialect_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
            await self.session.exec(insert, params=rows)

    async def _rows(self, query) -> list:
        return list((await self.session.exec(query)).scalars().all())
