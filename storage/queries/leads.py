"""Store methods for leads (L-n) and their next activities."""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import bindparam, case, func, or_, select

from storage.models import Commitment, Lead
from storage.queries.base import Queries
from storage.queries.partnerships import bound_here, member_of


def here_first(model, workspace_id: int):
    """An ORDER BY term: this workspace's rows before those of a linked one."""
    return case((model.workspace_id == workspace_id, 0), else_=1)


class LeadQueries(Queries):
    async def lead_for(self, workspace_id: int, number: int, person_id: int, channel: str | None) -> Lead | None:
        """L-n as the caller means it: one they own or raised, or of a partnership they belong to
        or whose channel this is (this workspace's first), else this workspace's."""
        related = or_(Lead.owner_id == person_id, Lead.created_by_id == person_id,
                      Lead.partnership_id.in_(member_of(person_id)),
                      Lead.partnership_id.in_(bound_here(workspace_id, channel)))
        return await self._first(select(Lead).where(Lead.number == number, related)
                                 .order_by(here_first(Lead, workspace_id), Lead.id)) or \
            await self._first(select(Lead).where(Lead.workspace_id == workspace_id, Lead.number == number))

    async def open_leads_of_partnership(self, partnership_id: int) -> list[Lead]:
        return await self._all(select(Lead).where(Lead.partnership_id == partnership_id, Lead.status == "open")
                               .order_by(Lead.number))

    async def open_leads(self, workspace_id: int | None, *, owner_id: int | None = None,
                         account: str | None = None, limit: int = 50) -> list[Lead]:
        query = select(Lead).where(Lead.status == "open")
        if workspace_id is not None:  # None: a person's leads on every platform they linked
            query = query.where(Lead.workspace_id == workspace_id)
        if owner_id is not None:
            query = query.where(Lead.owner_id == owner_id)
        if account is not None:
            query = query.where(func.lower(Lead.account).contains(account.lower(), autoescape=True))
        return await self._all(query.order_by(Lead.number).limit(limit))

    async def leads_with_next_activity(self, lead_ids: Sequence[int]) -> set[int]:
        """Those of these leads with an open activity (a scorecard counts them; it lists none)."""
        if not lead_ids:
            return set()
        return {row[0] for row in await self._rows(_leads_with_next_activity(), {"lead_ids": list(lead_ids)})}

    async def next_activities(self, lead_ids: Sequence[int]) -> dict[int, Commitment]:
        """Each lead's soonest open activity; a lead missing from the result has none."""
        if not lead_ids:
            return {}
        rows = await self._all(select(Commitment).where(Commitment.lead_id.in_(lead_ids), Commitment.status == "open")
                               .order_by(Commitment.due_at.desc()))
        return {c.lead_id: c for c in rows}  # the last written, soonest due, wins


@cache
def _leads_with_next_activity():
    """Built once (see base.Read)."""
    return (select(Commitment.lead_id).distinct()
            .where(Commitment.lead_id.in_(bindparam("lead_ids", expanding=True)), Commitment.status == "open"))
