"""A person's clock changed: everything scheduled on it moves with it."""
from __future__ import annotations

from datetime import datetime

from handlers.meetings import service as meeting_cadence
from handlers.peer_sync import service as peer_sync
from storage.store import Store


async def follow_timezone(store: Store, person_id: int, tz: str, now: datetime) -> None:
    await peer_sync.follow_timezone(store, person_id, tz, now)  # their weekly peer-sync prompts
    await meeting_cadence.follow_timezone(store, person_id, tz, now)  # the meetings they organise
