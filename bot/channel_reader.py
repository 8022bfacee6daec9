"""A console in a channel reads the bot's posts there the way a person reads a channel: every
console in `#acme` sees every post, not only the one that happened to take it from the outbox.

Direct messages are different: each is owed to one person and leaves the outbox once (the
OutboxSender). A channel post is one outbox row for all its readers, so a reader keeps its own
place (the last post it showed) instead of leasing rows; the first reader to show a post marks
it sent, so a console started later does not show it again as unread.
"""
from __future__ import annotations

import asyncio
import logging

from handlers.kernel.delivery import Address
from handlers.kernel.model import Reply

log = logging.getLogger(__name__)


class ChannelReader:
    def __init__(self, db, clock, deliverer, *, workspace_id: int, workspace: str, channel: str,
                 poll_seconds: float = 1.0):
        self.db, self.clock, self.deliverer = db, clock, deliverer
        self.workspace_id, self.channel = workspace_id, channel
        self.address = Address(workspace=workspace, channel=channel)
        self.poll_seconds = poll_seconds
        self._after: int | None = None  # the id of the last post shown
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def begin(self) -> None:
        """Take this reader's place in the channel, before its console says it is open: a post made
        after that is shown even when another console marks it sent before this reader's first
        read (which, taking its place only then, started after the post and never showed it)."""
        if self._after is None:
            async with self.db.transaction() as store:
                self._after = await store.channel_unread_from(
                    platform=self.deliverer.platform, workspace_id=self.workspace_id, channel=self.channel)

    async def read(self) -> int:
        """Show the posts that arrived since the last read; how many."""
        await self.begin()
        async with self.db.transaction() as store:
            posts = await store.channel_posts(platform=self.deliverer.platform, workspace_id=self.workspace_id,
                                              channel=self.channel, after=self._after, now=self.clock())
        for post_id, payload in posts:
            await self.deliverer.deliver(self.address, Reply.from_dict(payload))
            self._after = post_id
        return len(posts)

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                while await self.read():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading #%s failed; retrying", self.channel)
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
