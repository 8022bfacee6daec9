"""The in-process schedule of `serve`: one APScheduler interval job, the tick.

The database holds what is due; the tick only asks it, so `partnerbot tick --now`
and this job do exactly the same work.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.wiring import Partnerbot

log = logging.getLogger(__name__)


class Schedule:
    """The tick every `cadence.tick_seconds`, and a way to stop it, even in the middle."""

    def __init__(self, bot: Partnerbot):
        self.bot = bot
        self._running: asyncio.Task | None = None
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(
            self._tick, "interval", seconds=bot.settings.cadence.tick_seconds, id="tick",
            max_instances=1, coalesce=True,  # a slow tick is never run twice at once
        )

    def start(self) -> Schedule:
        self.scheduler.start()
        return self

    async def _tick(self) -> None:
        self._running = asyncio.current_task()
        try:
            await self.bot.run_cadence()
        except asyncio.CancelledError:
            # Stopping: each item of the tick is one transaction, so the one cut off is rolled
            # back and the next tick, here or on another replica, does it. Not an error.
            log.info("tick stopped with the server; the next tick carries on")
        finally:
            self._running = None

    async def stop(self) -> None:
        """No more ticks; the one running, if any, is cut off (its item in progress rolls back)."""
        self.scheduler.shutdown(wait=False)
        if (running := self._running) is not None:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running


def start_scheduler(bot: Partnerbot) -> Schedule:
    return Schedule(bot).start()
