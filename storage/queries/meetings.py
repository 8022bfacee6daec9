"""Store methods for meetings (M-n), their series and leads (L-n) (mixed into Store)."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import case, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Commitment, Lead, Meeting, MeetingSeries, PartnershipChannel, PartnershipMember


def _bound_here(workspace_id: int, channel: str | None):
    """Partnership ids bound to this channel (a record of a partnership whose Slack channel
    and Teams channel are both bound is reachable from either)."""
    return select(PartnershipChannel.partnership_id).where(
        PartnershipChannel.workspace_id == workspace_id, PartnershipChannel.channel == (channel or ""))


def _here_first(model, workspace_id: int):
    return case((model.workspace_id == workspace_id, 0), else_=1)


def _member_of(person_id: int):
    return select(PartnershipMember.partnership_id).where(PartnershipMember.person_id == person_id)


class MeetingQueries:
    session: AsyncSession

    async def partnerships_bound_to(self, workspace_id: int, channel: str) -> list[int]:
        return list((await self.session.exec(_bound_here(workspace_id, channel))).scalars().all())

    # --- meetings -------------------------------------------------------------------------
    async def meeting_for(self, workspace_id: int, number: int, person_id: int, channel: str | None) -> Meeting | None:
        """M-n as the caller means it: one of a partnership they belong to, organise or are
        in the bound channel of (this workspace's first), else this workspace's. A partnership
        lives in the workspace where it was created, so from its other platform's channel the
        numbers are that workspace's."""
        related = or_(Meeting.partnership_id.in_(_member_of(person_id)),
                      Meeting.partnership_id.in_(_bound_here(workspace_id, channel)),
                      Meeting.organiser_id == person_id)
        return await self._first(select(Meeting).where(Meeting.number == number, related)
                                 .order_by(_here_first(Meeting, workspace_id), Meeting.id)) or \
            await self._first(select(Meeting).where(Meeting.workspace_id == workspace_id, Meeting.number == number))

    async def open_meeting_in_channel(self, workspace_id: int, channel: str, now: datetime) -> Meeting | None:
        """The meeting an idea typed in this channel belongs to: the latest one started and
        not closed, of a partnership bound to the channel."""
        return await self._first(
            select(Meeting).where(Meeting.partnership_id.in_(_bound_here(workspace_id, channel)),
                                  Meeting.closed_at.is_(None), Meeting.starts_at <= now)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))

    async def meeting_series_of_person(self, person_id: int) -> list[MeetingSeries]:
        return await self._all(select(MeetingSeries).where(MeetingSeries.organiser_id == person_id))

    async def action_items(self, meeting_id: int) -> list[Commitment]:
        return await self._all(select(Commitment).where(Commitment.meeting_id == meeting_id)
                               .order_by(Commitment.number))

    async def open_action_items_of_series(self, series_id: int) -> list[Commitment]:
        return await self._all(
            select(Commitment).join(Meeting, Meeting.id == Commitment.meeting_id)
            .where(Meeting.series_id == series_id, Commitment.status == "open")
            .order_by(Commitment.due_at, Commitment.number))

    # --- leads ----------------------------------------------------------------------------
    async def lead_for(self, workspace_id: int, number: int, person_id: int, channel: str | None) -> Lead | None:
        """L-n as the caller means it: one they own or raised, or of a partnership they belong to
        or whose channel this is (this workspace's first), else this workspace's."""
        related = or_(Lead.owner_id == person_id, Lead.created_by_id == person_id,
                      Lead.partnership_id.in_(_member_of(person_id)),
                      Lead.partnership_id.in_(_bound_here(workspace_id, channel)))
        return await self._first(select(Lead).where(Lead.number == number, related)
                                 .order_by(_here_first(Lead, workspace_id), Lead.id)) or \
            await self._first(select(Lead).where(Lead.workspace_id == workspace_id, Lead.number == number))

    async def leads_of_meeting(self, meeting_id: int) -> list[Lead]:
        return await self._all(select(Lead).where(Lead.meeting_id == meeting_id).order_by(Lead.number))

    async def open_leads_of_series(self, series_id: int) -> list[Lead]:
        return await self._all(
            select(Lead).join(Meeting, Meeting.id == Lead.meeting_id)
            .where(Meeting.series_id == series_id, Lead.status == "open").order_by(Lead.number))

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

    async def next_activities(self, lead_ids: Sequence[int]) -> dict[int, Commitment]:
        """Each lead's soonest open activity; a lead missing from the result has none."""
        if not lead_ids:
            return {}
        rows = await self._all(select(Commitment).where(Commitment.lead_id.in_(lead_ids), Commitment.status == "open")
                               .order_by(Commitment.due_at.desc()))
        return {c.lead_id: c for c in rows}  # the last written, soonest due, wins
