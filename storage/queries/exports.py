"""Queries of issue 7 (export); a Store mixin.

The activity log has no partnership column: a row belongs to a partnership when its record
(P-3, S-4, M-1, L-2, H-2, Q-5, C-12) is one of the partnership's, in the partnership's
workspace. Those references are computed by the database as subqueries, so a page of the log
is one query whatever the number of records, and the workspace's log never leaves it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, cast, delete, func, literal_column, or_, select
from sqlalchemy.orm import aliased
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ActivityLog,
    Ask,
    Commitment,
    ExportToken,
    Handoff,
    Lead,
    Meeting,
    Partnership,
    PartnershipMember,
    PeerSync,
)


def _ref_text(kind: str, number):
    """'C-' || number: a reference as the log writes it."""
    return literal_column(f"'{kind}-'", String).concat(cast(number, String))


def _refs(kind: str, number, *where):
    return select(_ref_text(kind, number)).where(*where)


def _its_handoffs(p: Partnership, column):
    """SELECT `column` of the handoffs whose two reps are members of different sides of `p`.
    A handoff lives in its creator's workspace: only those of the partnership's own workspace
    count (that is where their log rows are)."""
    giver, receiver = aliased(PartnershipMember), aliased(PartnershipMember)
    return (
        select(column)
        .join(giver, and_(giver.person_id == Handoff.from_id, giver.partnership_id == p.id))
        .join(receiver, and_(receiver.person_id == Handoff.to_id, receiver.partnership_id == p.id))
        .where(Handoff.workspace_id == p.workspace_id, giver.side != receiver.side)
    )


def partnership_records(p: Partnership):
    """A condition on ActivityLog.record: the row is about `p` or one of its records."""
    here = p.workspace_id
    handoff_ids = _its_handoffs(p, Handoff.id)
    sync_ids = select(PeerSync.id).where(PeerSync.partnership_id == p.id)
    meeting_ids = select(Meeting.id).where(Meeting.partnership_id == p.id)
    lead_ids = select(Lead.id).where(Lead.partnership_id == p.id, Lead.workspace_id == here)
    return or_(
        ActivityLog.record == f"P-{p.number}",
        ActivityLog.record.in_(_refs("S", PeerSync.number, PeerSync.partnership_id == p.id,
                                     PeerSync.workspace_id == here)),
        ActivityLog.record.in_(_refs("M", Meeting.number, Meeting.partnership_id == p.id,
                                     Meeting.workspace_id == here)),
        ActivityLog.record.in_(_refs("L", Lead.number, Lead.partnership_id == p.id, Lead.workspace_id == here)),
        ActivityLog.record.in_(_its_handoffs(p, _ref_text("H", Handoff.number))),
        # pledges, action items, lead activities, and commitments `re` one of its handoffs
        ActivityLog.record.in_(_refs("C", Commitment.number, Commitment.workspace_id == here, or_(
            Commitment.peer_sync_id.in_(sync_ids), Commitment.meeting_id.in_(meeting_ids),
            Commitment.lead_id.in_(lead_ids), Commitment.handoff_id.in_(handoff_ids)))),
        # asks `re P-n`, or re one of its leads or handoffs
        ActivityLog.record.in_(_refs("Q", Ask.number, Ask.workspace_id == here, or_(
            Ask.partnership_id == p.id, Ask.handoff_id.in_(handoff_ids), Ask.lead_id.in_(lead_ids)))),
    )


class ExportQueries:
    session: AsyncSession

    async def export_token(self, token_hash: str) -> ExportToken | None:
        return await self.session.get(ExportToken, token_hash)

    async def delete_expired_export_tokens(self, now: datetime) -> int:
        """Forget the links that no longer work (a download checks the time as it starts, so
        one under way is not cut off); returns how many."""
        result = await self.session.exec(delete(ExportToken).where(ExportToken.expires_at <= now))
        return result.rowcount

    async def last_log_id(self, workspace_id: int) -> int:
        """The newest log row of a workspace now: an export stops there, so rows written while
        it streams do not make it longer than what was asked for."""
        query = select(func.max(ActivityLog.id)).where(ActivityLog.workspace_id == workspace_id)
        return (await self.session.exec(query)).scalar_one() or 0

    async def partnership_log_page(self, p: Partnership, *, after_id: int, up_to_id: int,
                                   limit: int) -> list[ActivityLog]:
        """The next `limit` rows of `p`'s activity log after row `after_id`, oldest first."""
        query = (
            select(ActivityLog)
            .where(ActivityLog.workspace_id == p.workspace_id, ActivityLog.id > after_id,
                   ActivityLog.id <= up_to_id, partnership_records(p))
            .order_by(ActivityLog.id)
            .limit(limit)
        )
        return list((await self.session.exec(query)).scalars().all())
