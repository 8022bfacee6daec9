"""Store methods for `export P-n`: its links, and the partnership's part of the activity log.

The activity log has no partnership column: a row belongs to a partnership when its record
(P-3, S-4, M-1, L-2, H-2, Q-5, C-12) is one of the partnership's, in the partnership's
workspace. Those references are computed by the database as subqueries, so a page of the log
is one query whatever the number of records, and the workspace's log never leaves it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, cast, delete, func, literal_column, or_, select
from sqlalchemy.orm import aliased

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
from storage.queries.base import Cursor, Page, Queries


def _ref_text(kind: str, number):
    """'C-' || number: a reference as the log writes it (Numbered.ref, in SQL)."""
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
        ActivityLog.record == p.ref,
        ActivityLog.record.in_(_refs(PeerSync.KIND, PeerSync.number, PeerSync.partnership_id == p.id,
                                     PeerSync.workspace_id == here)),
        ActivityLog.record.in_(_refs(Meeting.KIND, Meeting.number, Meeting.partnership_id == p.id,
                                     Meeting.workspace_id == here)),
        ActivityLog.record.in_(_refs(Lead.KIND, Lead.number, Lead.partnership_id == p.id, Lead.workspace_id == here)),
        ActivityLog.record.in_(_its_handoffs(p, _ref_text(Handoff.KIND, Handoff.number))),
        # pledges, action items, lead activities, and commitments `re` one of its handoffs
        ActivityLog.record.in_(_refs(Commitment.KIND, Commitment.number, Commitment.workspace_id == here, or_(
            Commitment.peer_sync_id.in_(sync_ids), Commitment.meeting_id.in_(meeting_ids),
            Commitment.lead_id.in_(lead_ids), Commitment.handoff_id.in_(handoff_ids)))),
        # asks `re P-n`, or re one of its leads or handoffs
        ActivityLog.record.in_(_refs(Ask.KIND, Ask.number, Ask.workspace_id == here, or_(
            Ask.partnership_id == p.id, Ask.handoff_id.in_(handoff_ids), Ask.lead_id.in_(lead_ids)))),
    )


class ExportQueries(Queries):
    async def export_token(self, token_hash: str) -> ExportToken | None:
        return await self._session.get(ExportToken, token_hash)

    async def expired_export_tokens(self, now: datetime, after: Cursor = None) -> Page:
        """The hashes of links that no longer work."""
        order = (ExportToken.token_hash,)
        return await self._page(select(*order).where(ExportToken.expires_at <= now), order, after)

    async def delete_export_token(self, token_hash: str, now: datetime) -> bool:
        """Forget a link once it has expired; False when it was gone already or is still live."""
        result = await self._session.exec(delete(ExportToken).where(ExportToken.token_hash == token_hash,
                                                                    ExportToken.expires_at <= now))
        return result.rowcount == 1

    async def last_log_id(self, workspace_id: int) -> int:
        """The newest log row of a workspace now: an export stops there, so rows written while
        it streams do not make it longer than what was asked for."""
        query = select(func.max(ActivityLog.id)).where(ActivityLog.workspace_id == workspace_id)
        return (await self._session.exec(query)).scalar_one() or 0

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
        return list((await self._session.exec(query)).scalars().all())

    async def record_history(self, workspace_id: int, record: str, limit: int) -> list[ActivityLog]:
        """The newest `limit` rows of one record's history (e.g. "C-3" of its workspace), oldest first."""
        query = (select(ActivityLog).where(ActivityLog.workspace_id == workspace_id, ActivityLog.record == record)
                 .order_by(ActivityLog.id.desc()).limit(limit))
        return list(reversed((await self._session.exec(query)).scalars().all()))
