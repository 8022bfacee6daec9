"""Store methods for wins and their credit (mixed into storage.store.Store)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from storage.models import Commitment, PartnershipMember, Win, WinCredit
from storage.queries.base import Queries


class WinQueries(Queries):
    async def win_of(self, workspace_id: int, record: str) -> Win | None:
        """The win of H-n or L-n in the record's workspace, when it was won."""
        query = select(Win).where(Win.workspace_id == workspace_id, Win.record == record)
        return (await self._session.exec(query)).scalars().first()

    async def credits_of(self, win_id: int) -> list[WinCredit]:
        """The credit rows of a win, one per credited person."""
        return await self._all(select(WinCredit).where(WinCredit.win_id == win_id).order_by(WinCredit.person_id))

    async def kept_by(self, *, handoff_id: int | None = None, lead_id: int | None = None) -> list[int]:
        """Who kept (done, on time or late) a commitment linked to the handoff or the lead, in
        the order of their first such commitment."""
        column = Commitment.handoff_id if handoff_id is not None else Commitment.lead_id
        query = (select(Commitment.owner_id)
                 .where(column == (handoff_id if handoff_id is not None else lead_id), Commitment.status == "done")
                 .group_by(Commitment.owner_id).order_by(func.min(Commitment.id)))
        return list((await self._session.exec(query)).scalars().all())

    async def partnerships_of_both(self, person_id: int, other_id: int) -> list[int]:
        """The partnerships in which both people are members (a handoff's partnerships)."""
        other = aliased(PartnershipMember)
        query = (select(PartnershipMember.partnership_id)
                 .join(other, other.partnership_id == PartnershipMember.partnership_id)
                 .where(PartnershipMember.person_id == person_id, other.person_id == other_id)
                 .order_by(PartnershipMember.partnership_id))
        return list((await self._session.exec(query)).scalars().all())
