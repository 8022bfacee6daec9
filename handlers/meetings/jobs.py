"""Meetings on the clock: each series' start, then the organiser's end prompt and nudges."""
from __future__ import annotations

from handlers.kernel.context import JobContext
from handlers.kernel.registry import Job
from handlers.meetings.service import follow_up, start_meeting
from storage.models import Meeting, MeetingSeries


async def due_starts(cad: JobContext, after) -> list:
    return await cad.store.due_meeting_series(cad.now, after)


async def run_start(cad: JobContext, series_id: int) -> bool:
    series = await cad.store.get(MeetingSeries, series_id)
    if series is None or series.stopped_at or series.next_start_at > cad.now:
        return False  # another process started it a moment ago, or it was stopped
    return await start_meeting(cad, series) is not None


async def due_follow_ups(cad: JobContext, after) -> list:
    return await cad.store.meetings_due_for_cadence(cad.now, after)


async def run_follow_up(cad: JobContext, meeting_id: int) -> bool:
    m = await cad.store.get(Meeting, meeting_id)
    if m.closed_at or m.cadence_at is None or m.cadence_at > cad.now:
        return False
    return await follow_up(cad, m)


JOBS = [
    Job("meeting starts", find=due_starts, run=run_start),
    Job("meeting follow-ups", find=due_follow_ups, run=run_follow_up),
]
