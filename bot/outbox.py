"""The outbox sender: claims owed messages, hands them to the platform, marks them sent.

Rows are claimed with a lease, so two processes never send the same row at once; a
process killed mid-send leaves its lease to expire and another sender takes over.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import and_, or_, select, update

from bot.delivery import Address, Deliverer, NotReachableYet, RetryAfter, Undeliverable
from handlers.model import Reply
from storage.db import Database
from storage.models import ChannelContact, Identity, OutboxMessage, Workspace
from storage.repository import Store

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 300
WAIT_FOR_CONTACT = timedelta(days=1)


@dataclass(frozen=True)
class Claimed:
    id: int
    platform: str
    address: Address | None  # None: the recipient has no identity on that platform yet
    reply: Reply
    attempts: int


class OutboxSender:
    def __init__(
        self, db: Database, deliverers: Iterable[Deliverer], clock: Callable[[], datetime], *,
        max_attempts: int = 12, poll_seconds: float = 1.0, batch_size: int = 50,
        person_ids: set[int] | None = None, channels: set[tuple[int, str]] | None = None,
    ):
        self.db = db
        self.deliverers = {d.platform: d for d in deliverers}
        self.clock = clock
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # With either filter, only messages to these people or posted in these (workspace id,
        # channel) pairs: a console sends its own user's messages, and its channel's posts when
        # it has one. With neither (`serve`, `tick`), every message.
        self.person_ids = person_ids
        self.channels = channels
        self._wake = asyncio.Event()
        self._stopping = False
        self._paused_until: dict[str, datetime] = {}  # platform -> throttled until

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """End run_forever after the send in progress (cancelling it could cut a message off
        after it was leased, leaving it to wait out the lease)."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox drain failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def drain(self) -> int:
        """Send every message due now; returns how many were sent."""
        sent = 0
        while batch := await self._claim():
            for message in batch:
                if self._paused_until.get(message.platform, self.clock()) > self.clock():
                    # throttled mid-batch: hand the rest back untouched rather than hammer
                    await self._finish(message.id, lease_until=None)
                    continue
                sent += await self._send(message)
        return sent

    def _platforms_open(self, now: datetime) -> list[str]:
        return [p for p in self.deliverers if self._paused_until.get(p, now) <= now]

    async def _claim(self) -> list[Claimed]:
        now = self.clock()
        platforms = self._platforms_open(now)
        if not platforms:
            return []
        async with self.db.session() as s:
            query = (
                select(OutboxMessage, Workspace.external_id, Identity.external_id, Identity.contact,
                       ChannelContact.contact)
                .join(Workspace, Workspace.id == OutboxMessage.workspace_id)
                .outerjoin(Identity, (Identity.person_id == OutboxMessage.recipient_person_id)
                           & (Identity.platform == OutboxMessage.platform))
                .outerjoin(ChannelContact, (ChannelContact.workspace_id == OutboxMessage.workspace_id)
                           & (ChannelContact.channel == OutboxMessage.channel))
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.platform.in_(platforms),
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(self.batch_size)
                .with_for_update(of=OutboxMessage, skip_locked=True)
            )
            if (only := self._only_recipients()) is not None:
                query = query.where(only)
            rows = (await s.exec(query)).all()
            if not rows:
                return []
            ids = [row[0].id for row in rows]
            await s.exec(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(lease_until=now + LEASE))
        claimed = []
        for message, workspace, user, contact, channel_contact in rows:
            if message.channel:
                address = Address(workspace=workspace, channel=message.channel, contact=channel_contact)
            else:
                address = Address(workspace=workspace, user=user, contact=contact) if user else None
            claimed.append(Claimed(message.id, message.platform, address,
                                   Reply.from_dict(message.payload), message.attempts))
        return claimed

    def _only_recipients(self):
        """The filter of `person_ids` and `channels`; None when there is none."""
        if self.person_ids is None and self.channels is None:
            return None
        wanted = [OutboxMessage.recipient_person_id.in_(self.person_ids or ())]
        wanted += [and_(OutboxMessage.workspace_id == workspace_id, OutboxMessage.channel == channel)
                   for workspace_id, channel in sorted(self.channels or ())]
        return or_(*wanted)

    async def _send(self, message: Claimed) -> int:
        deliverer = self.deliverers[message.platform]
        try:
            if message.address is None:
                raise Undeliverable("the recipient has no identity on this platform")
            await deliverer.deliver(message.address, message.reply)
        except RetryAfter as throttled:
            until = self.clock() + timedelta(seconds=throttled.seconds)
            self._paused_until[message.platform] = until
            log.warning("%s throttled us; waiting %.1fs", message.platform, throttled.seconds)
            await self._finish(message.id, next_attempt_at=until, lease_until=None)
            return 0
        except NotReachableYet:
            await self._park_until_contact(message.id)
            return 0
        except Undeliverable as refused:
            log.error("outbox %s undeliverable: %s", message.id, refused)
            await self._finish(message.id, status="failed", last_error=str(refused)[:500],
                               attempts=message.attempts + 1, lease_until=None)
            return 0
        except Exception as error:  # network trouble, 5xx: back off and retry
            attempts = message.attempts + 1
            delay = min(2 ** attempts, MAX_BACKOFF_SECONDS)
            status = "failed" if attempts >= self.max_attempts else "pending"
            log.warning("outbox %s attempt %d failed (%s); %s", message.id, attempts, error,
                        "giving up" if status == "failed" else f"retrying in {delay}s")
            await self._finish(message.id, status=status, attempts=attempts, last_error=repr(error)[:500],
                               next_attempt_at=self.clock() + timedelta(seconds=delay), lease_until=None)
            return 0
        await self._finish(message.id, status="sent", sent_at=self.clock(),
                           attempts=message.attempts + 1, lease_until=None)
        return 1

    async def _park_until_contact(self, message_id: int) -> None:
        """Wait for the recipient's first contact, which releases the message at once
        (Store.remember_contact); the daily retry is only a safety net. If that contact came
        while we were trying, the release already happened: retry now instead of parking."""
        now = self.clock()
        async with self.db.session() as s:
            # the row lock orders us with Store.remember_contact's release of this row: either it
            # released before (we then see the contact) or it waits and releases after us
            message = await s.get(OutboxMessage, message_id, with_for_update=True)
            arrived = await Store(s).reachable(message.recipient_person_id, message.platform, needs_contact=True)
            message.next_attempt_at = now if arrived else now + WAIT_FOR_CONTACT
            message.lease_until = None
        if arrived:
            self.wake()

    async def _finish(self, message_id: int, **values) -> None:
        async with self.db.session() as s:
            await s.exec(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
