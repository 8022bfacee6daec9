"""Store methods for wins and their credit (mixed into storage.store.Store)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from storage.models import Commitment, Handoff, Lead, PartnershipMember, Person, Win, WinCredit
from storage.queries.base import Queries, record_class


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
    async def credited_wins(self, since: datetime, until: datetime, *, person_ids: Iterable[int] = (),
                            workspace_id: int | None = None) -> list[tuple[Win, list[WinCredit], str]]:
        """Wins of [since, until), oldest first, each with its credit lines and its account (its
        handoff's or lead's): those credited to one of these people, or (with `workspace_id`)
        recorded in that workspace or credited to one of its people. One statement: a quarter's
        5,000 wins took 300 ms as three reads (wins, then their credit and accounts by id)."""
        if workspace_id is not None:
            its_people = select(Person.id).where(Person.workspace_id == workspace_id)
            whose = or_(Win.workspace_id == workspace_id,
                        Win.id.in_(select(WinCredit.win_id).where(WinCredit.person_id.in_(its_people))))
        else:
            whose = Win.id.in_(select(WinCredit.win_id).where(WinCredit.person_id.in_(set(person_ids))))
        query = (select(*Win.__table__.c, *WinCredit.__table__.c, func.coalesce(Handoff.account, Lead.account, ""))
                 .outerjoin(WinCredit, WinCredit.win_id == Win.id)
                 .outerjoin(Handoff, Handoff.id == Win.handoff_id)
                 .outerjoin(Lead, Lead.id == Win.lead_id)
                 .where(whose, Win.won_at >= since, Win.won_at < until)
                 .order_by(Win.won_at, Win.id))
        win_width, credit_width = len(Win.__table__.c), len(WinCredit.__table__.c)
        make_win, make_credit = record_class(Win)._make, record_class(WinCredit)._make
        found: list[tuple[Win, list[WinCredit], str]] = []
        for row in (await self._session.exec(query)).all():
            if not found or found[-1][0].id != row[0]:
                found.append((make_win(row[:win_width]), [], row[-1]))
            credit = row[win_width:win_width + credit_width]
            if credit[0] is not None:  # a win nobody is credited on has one row, of NULLs here
                found[-1][1].append(make_credit(credit))
        return found

    async def credits_of_wins(self, win_ids: Sequence[int]) -> dict[int, list[WinCredit]]:
        """Each win's credit lines (read-only records)."""
        found: dict[int, list[WinCredit]] = {}
        if win_ids:
            for c in await self._read_only(WinCredit, WinCredit.win_id.in_(list(win_ids))):
                found.setdefault(c.win_id, []).append(c)
        return found
