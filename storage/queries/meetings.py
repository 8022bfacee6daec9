"""Store methods for meetings (M-n), their series, action items and leads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update

from storage.models import ActivityLog, CalendarFeed, Commitment, Counter, Lead, Meeting, MeetingSeries, SyncSeries
from storage.queries.base import Cursor, Page, Queries
from storage.queries.leads import here_first
from storage.queries.partnerships import bound_here, member_of


class MeetingQueries(Queries):
    async def meeting_for(self, workspace_id: int, number: int, person_id: int, channel: str | None) -> Meeting | None:
        """M-n as the caller means it: one of a partnership they belong to, organise or are
        in the bound channel of (this workspace's first), else this workspace's. A partnership
        lives in the workspace where it was created, so from its other platform's channel the
        numbers are that workspace's."""
        related = or_(Meeting.partnership_id.in_(member_of(person_id)),
                      Meeting.partnership_id.in_(bound_here(workspace_id, channel)),
                      Meeting.organiser_id == person_id)
        return await self._first(select(Meeting).where(Meeting.number == number, related)
                                 .order_by(here_first(Meeting, workspace_id), Meeting.id)) or \
            await self._first(select(Meeting).where(Meeting.workspace_id == workspace_id, Meeting.number == number))

    async def open_meeting_in_channel(self, workspace_id: int, channel: str, now: datetime) -> Meeting | None:
        """The meeting an idea typed in this channel belongs to: the latest one started and
        not closed, of a partnership bound to the channel."""
        return await self._first(
            select(Meeting).where(Meeting.partnership_id.in_(bound_here(workspace_id, channel)),
                                  Meeting.closed_at.is_(None), Meeting.starts_at <= now)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))

    async def series_of_partnership(self, partnership_id: int) -> list[MeetingSeries]:
        """Every series of a partnership, stopped ones too, oldest first: `meeting list` numbers them so."""
        return await self._all(select(MeetingSeries).where(MeetingSeries.partnership_id == partnership_id)
                               .order_by(MeetingSeries.id))

    async def upcoming_meeting_numbers(self, workspace_id: int) -> dict[int, int]:
        """Series id → the M-n its next meeting will take: the workspace's meetings are numbered
        as they start, so the series still running take the next numbers in order of start."""
        taken = await self._first(select(Counter.value).where(Counter.workspace_id == workspace_id,
                                                              Counter.kind == Meeting.KIND)) or 0
        ids = await self._all(select(MeetingSeries.id).where(MeetingSeries.workspace_id == workspace_id,
                                                             MeetingSeries.stopped_at.is_(None))
                              .order_by(MeetingSeries.next_start_at, MeetingSeries.id))
        return {series_id: taken + 1 + i for i, series_id in enumerate(ids)}

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

    async def leads_of_meeting(self, meeting_id: int) -> list[Lead]:
        return await self._all(select(Lead).where(Lead.meeting_id == meeting_id).order_by(Lead.number))

    async def open_leads_of_series(self, series_id: int) -> list[Lead]:
        return await self._all(
            select(Lead).join(Meeting, Meeting.id == Lead.meeting_id)
            .where(Meeting.series_id == series_id, Lead.status == "open").order_by(Lead.number))

    # --- what the tick finds due ----------------------------------------------------------------
    async def due_meeting_series(self, now: datetime, after: Cursor = None) -> Page:
        order = (MeetingSeries.next_start_at, MeetingSeries.id)
        return await self._page(
            select(*order).where(MeetingSeries.next_start_at <= now, MeetingSeries.stopped_at.is_(None)), order, after)

    async def meetings_due_for_cadence(self, now: datetime, after: Cursor = None) -> Page:
        """Meetings whose end prompt or next nudge is due."""
        order = (Meeting.cadence_at, Meeting.id)
        return await self._page(
            select(*order).where(Meeting.closed_at.is_(None), Meeting.cadence_at <= now), order, after)

    # --- calendar feeds (handlers/meetings/calendar.py) ------------------------------------------
    async def live_calendar_feed(self, token_hash: str) -> CalendarFeed | None:
        found = await self._session.get(CalendarFeed, token_hash)
        return found if found is not None and found.revoked_at is None else None

    async def revoke_calendar_feeds(self, person_id: int, partnership_id: int, meeting_series_id: int | None,
                                    now: datetime) -> int:
        """Revoke every live link of this person to this series (None: to the partnership's peer sync)."""
        result = await self._session.exec(
            update(CalendarFeed).where(CalendarFeed.person_id == person_id,
                                       CalendarFeed.partnership_id == partnership_id,
                                       CalendarFeed.meeting_series_id.is_(None) if meeting_series_id is None
                                       else CalendarFeed.meeting_series_id == meeting_series_id,
                                       CalendarFeed.revoked_at.is_(None))
            .values(revoked_at=now))
        return result.rowcount

    async def skipped_meeting_starts(self, workspace_id: int, partnership_ref: str) -> list[dict]:
        """What the log says of a partnership's meetings skipped (the tick was down): each entry's
        details (purpose, series_id when recorded, starts_at)."""
        rows = await self._all(select(ActivityLog.after).where(ActivityLog.workspace_id == workspace_id,
                                                               ActivityLog.record == partnership_ref,
                                                               ActivityLog.action == "meeting.skipped"))
        return [row for row in rows if row]

    async def sync_series_of(self, partnership_id: int, person_id: int) -> SyncSeries | None:
        return await self._first(select(SyncSeries).where(SyncSeries.partnership_id == partnership_id,
                                                          SyncSeries.person_id == person_id))
