"""The in-process schedule of `serve`: one APScheduler interval job, the tick.

The database holds what is due; the tick only asks it, so `partnerbot tick --now`
and this job do exactly the same work.
"""
from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.wiring import Partnerbot

log = logging.getLogger(__name__)


def start_scheduler(bot: Partnerbot) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        bot.run_cadence, "interval", seconds=bot.settings.get("cadence.tick_seconds"), id="tick",
        max_instances=1, coalesce=True,  # a slow tick is never run twice at once
    )
    scheduler.start()
    return scheduler
