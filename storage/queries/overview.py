"""The rows of many partnerships' scorecards at once, for the dashboard's overview (a Store mixin).

`report P-n` reads one partnership with storage/queries/reports.py, a handful of SELECTs. The
overview shows every partnership in scope (200 for an executive): the same SELECTs once each
over all of them, with the windows of reports.py, each row coming back with what places it (the
partnership of its sync, meeting or lead; the two reps of its handoff). handlers/reports/overview.py
splits them per partnership, and so computes every figure from exactly the rows `report P-n` reads.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from storage.models import (
    Commitment,
    Handoff,
    Lead,
    Meeting,
    PeerSync,
    Pulse,
    PulseAnswer,
    SyncAnswer,
    Win,
)
from storage.queries.base import Queries, record_class
from storage.queries.reports import commitment_window, handoff_window, lead_window


@dataclass(frozen=True)
class Placed:
    """A row and what ties it to partnerships: a partnership id (its sync's, meeting's, lead's or
    its own), and the two reps of the handoff it is about (None, None when it is about none)."""

    row: object
    partnership_id: int | None
    from_id: int | None
    to_id: int | None


@dataclass(frozen=True)
class ManyRows:
    commitments: list[Placed]
    handoffs: list[Handoff]  # between any two members: the caller keeps those between one's sides
    syncs: list[PeerSync]
    sync_answers: list[SyncAnswer]
    meetings: list[Meeting]
    action_items: list[Commitment]
    leads: list[Lead]
    leads_with_next: set[int]
    wins: list[Placed]  # no asks: the overview shows no figure of them


class OverviewQueries(Queries):
    async def many_partnerships_rows(self, partnership_ids: Sequence[int], members: Sequence[int], since: datetime,
                                     now: datetime, open_stages: Sequence[str], stages: Sequence[str]) -> ManyRows:
        ids, members = list(partnership_ids), list(members)
        between = and_(Handoff.from_id.in_(members), Handoff.to_id.in_(members))
        handoffs = await self._read_only(Handoff, between, handoff_window(since, open_stages),
                                         Handoff.stage.in_(stages), order_by=(Handoff.created_at, Handoff.id),
                                         streamed=True)
        syncs = await self._read_only(PeerSync, PeerSync.partnership_id.in_(ids), PeerSync.opened_at >= since,
                                      order_by=(PeerSync.opened_at,))
        answers = await self._read_only(SyncAnswer, SyncAnswer.peer_sync_id.in_([s.id for s in syncs])) \
            if syncs else []
        meetings = await self._read_only(Meeting, Meeting.partnership_id.in_(ids), Meeting.ends_at >= since,
                                         Meeting.ends_at <= now, order_by=(Meeting.ends_at,))
        leads = await self._read_only(Lead, Lead.partnership_id.in_(ids), lead_window(since), order_by=(Lead.id,),
                                      streamed=True)
        open_leads = select(Lead.id).where(Lead.partnership_id.in_(ids), Lead.status == "open")
        with_next = set(await self._all(select(Commitment.lead_id).distinct()
                                        .where(Commitment.lead_id.in_(open_leads), Commitment.status == "open")))
        return ManyRows(
            commitments=await self._placed_commitments(ids, members, since),
            handoffs=handoffs, syncs=syncs, sync_answers=answers, meetings=meetings,
            action_items=await self._read_only(Commitment, Commitment.meeting_id.in_([m.id for m in meetings]),
                                               order_by=(Commitment.id,), streamed=True) if meetings else [],
            leads=leads, leads_with_next=with_next,
            wins=await self._placed_wins(ids, members, since),
        )

    async def _placed_commitments(self, ids: list[int], members: list[int], since: datetime) -> list[Placed]:
        sync, meeting, lead = aliased(PeerSync), aliased(Meeting), aliased(Lead)
        query = (select(*Commitment.__table__.c, sync.partnership_id, meeting.partnership_id, lead.partnership_id,
                        Handoff.from_id, Handoff.to_id)
                 .outerjoin(sync, sync.id == Commitment.peer_sync_id)
                 .outerjoin(meeting, meeting.id == Commitment.meeting_id)
                 .outerjoin(lead, lead.id == Commitment.lead_id)
                 .outerjoin(Handoff, Handoff.id == Commitment.handoff_id)
                 .where(or_(sync.partnership_id.in_(ids), meeting.partnership_id.in_(ids), lead.partnership_id.in_(ids),
                            and_(Commitment.owner_id.in_(members), Handoff.from_id.in_(members),
                                 Handoff.to_id.in_(members))),
                        commitment_window(since))
                 .order_by(Commitment.due_at, Commitment.id))
        return await self._records(Commitment, query, lambda c, s, m, le, f, t: Placed(c, s or m or le, f, t))

    async def _placed_wins(self, ids: list[int], members: list[int], since: datetime) -> list[Placed]:
        lead = aliased(Lead)
        query = (select(*Win.__table__.c, lead.partnership_id, Handoff.from_id, Handoff.to_id)
                 .outerjoin(lead, lead.id == Win.lead_id)
                 .outerjoin(Handoff, Handoff.id == Win.handoff_id)
                 .where(or_(lead.partnership_id.in_(ids), and_(Handoff.from_id.in_(members),
                                                               Handoff.to_id.in_(members))),
                        Win.won_at >= since)
                 .order_by(Win.won_at))
        return await self._records(Win, query, Placed)

    async def _records(self, model, query, placed) -> list[Placed]:
        """placed(a read-only record of `model`, the query's further columns…) for each row of a
        query that selects `model`'s columns first."""
        width, make = len(model.__table__.c), record_class(model)._make
        return await self._streamed(query, lambda row: placed(make(row[:width]), *row[width:]))

    async def closed_pulses(self, partnership_ids: Sequence[int], since: datetime | None = None) -> list[Pulse]:
        """Closed pulses of these partnerships, newest first (those closed since `since`, when given)."""
        query = select(Pulse).where(Pulse.partnership_id.in_(list(partnership_ids)), Pulse.closed_at.is_not(None))
        if since is not None:
            query = query.where(Pulse.closed_at >= since)
        return await self._all(query.order_by(Pulse.closed_at.desc()))

    async def answers_of_pulses(self, pulse_ids: Sequence[int]) -> list[PulseAnswer]:
        if not pulse_ids:
            return []
        return await self._all(select(PulseAnswer).where(PulseAnswer.pulse_id.in_(list(pulse_ids)))
                               .order_by(PulseAnswer.side, PulseAnswer.answered_at, PulseAnswer.person_id))
