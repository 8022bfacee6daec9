"""Store methods for wins and their credit (mixed into storage.store.Store)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from storage.models import Commitment, Handoff, Lead, PartnershipMember, Person, Win, WinCredit
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

    # --- the credit report --------------------------------------------------------------------
    async def wins_credited(self, since: datetime, until: datetime, *, person_ids: Iterable[int] = (),
                            workspace_id: int | None = None) -> list[Win]:
        """Wins of [since, until), oldest first: credited to one of these people, or (with
        `workspace_id`) recorded in that workspace or credited to one of its people."""
        if workspace_id is not None:
            its_people = select(Person.id).where(Person.workspace_id == workspace_id)
            whose = or_(Win.workspace_id == workspace_id,
                        Win.id.in_(select(WinCredit.win_id).where(WinCredit.person_id.in_(its_people))))
        else:
            whose = Win.id.in_(select(WinCredit.win_id).where(WinCredit.person_id.in_(set(person_ids))))
        return await self._read_only(Win, whose, Win.won_at >= since, Win.won_at < until, order_by=(Win.won_at, Win.id))

    async def credits_of_wins(self, win_ids: Sequence[int]) -> dict[int, list[WinCredit]]:
        """Each win's credit lines (read-only records)."""
        found: dict[int, list[WinCredit]] = {}
        if win_ids:
            for c in await self._read_only(WinCredit, WinCredit.win_id.in_(list(win_ids))):
                found.setdefault(c.win_id, []).append(c)
        return found

    async def win_accounts(self, wins: Sequence[Win]) -> dict[int, str]:
        """The account each win was about (its handoff's or lead's)."""
        handoffs = {w.handoff_id: w.id for w in wins if w.handoff_id}
        leads = {w.lead_id: w.id for w in wins if w.lead_id}
        found: dict[int, str] = {}
        if handoffs:
            for hid, account in (await self._session.exec(
                    select(Handoff.id, Handoff.account).where(Handoff.id.in_(list(handoffs))))).all():
                found[handoffs[hid]] = account
        if leads:
            for lid, account in (await self._session.exec(
                    select(Lead.id, Lead.account).where(Lead.id.in_(list(leads))))).all():
                found[leads[lid]] = account
        return found
