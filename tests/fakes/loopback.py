"""What every fake platform server shares: serving an aiohttp app on a free loopback port,
and letting a test wait until the bot has called it enough."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sized

from aiohttp import web


class LoopbackServer:
    def __init__(self):
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.changed = asyncio.Event()  # set on every recorded call

    async def serve(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def wait_until(self, found: Callable[[], Sized], count: int, timeout: float, what: str) -> list:
        """Wait until `found()` holds `count` items; fail with what was seen otherwise."""
        deadline = time.monotonic() + timeout
        while len(items := found()) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} {what}, got {items}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass
        return list(items)
