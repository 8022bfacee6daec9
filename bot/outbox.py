"""The outbox sender: leases owed messages, hands them to the platform, marks them sent (the
outbox's SQL is storage/outbox.py).

Rows are leased, so two processes never send the same row at once; a process killed
mid-send leaves its lease to expire and another sender takes over.

When a platform says "slow down" (429 with Retry-After; Teams also 412/502/504) the
workspace it was said about waits as told, in real seconds, then one probe request goes out
before sending at full width again. Slack's limits are per app per workspace (Teams': per
tenant), so one throttled workspace never slows another: its messages are not even leased
while it waits. When a deliverer paces a conversation (Slack: ~1 message a second per
channel) only that conversation's messages wait; the rest go on. Messages to one
conversation leave in the order they were owed.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from handlers.kernel.delivery import Address, Deliverer, NotReachableYet, RetryAfter, Undeliverable
from handlers.kernel.model import Reply
from storage.db import Database
from storage.outbox import Leased

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 300  # network trouble, 5xx: per message, on the business clock
WAIT_FOR_CONTACT = timedelta(days=1)
# A platform that throttles without saying how long: 0.5–1 s, then 1–2 s, 2–4 s… up to 16–32 s.
THROTTLE_BACKOFF_SECONDS = 1.0
THROTTLE_BACKOFF_CAP_SECONDS = 32.0
# Batches sent at once, each of other workspaces than the rest (the `concurrency` sends in
# flight are shared by them): one workspace waiting for its rate limit's next window or a
# Retry-After does not hold the others to one batch at a time.
BATCHES_IN_FLIGHT = 4
PASSED_OVER_BEAT = 0.1  # seconds


# Who a platform throttles: (platform, the platform's workspace id: Slack team, Teams tenant).
ThrottleKey = tuple[str, str]


@dataclass(frozen=True)
class Claimed:
    id: int
    platform: str
    workspace: str  # the platform's workspace id
    address: Address | None  # None: the recipient has no identity on that platform yet
    reply: Reply | None  # None: a row that is no chat message (a CRM write), given as its payload
    attempts: int
    payload: dict

    @property
    def throttle_key(self) -> ThrottleKey:
        """Messages with the same value wait together when the platform says "slow down"."""
        return (self.platform, self.workspace)

    @property
    def conversation(self) -> Hashable:
        """Messages with the same value must leave one after the other, in id order."""
        return (self.platform, *self.address.key) if self.address else ("unaddressed", self.id)


def throttle_backoff(streak: int) -> float:
    """Exponential backoff with "equal jitter" (half the step fixed, half random), so processes
    throttled together do not come back in lockstep; what Microsoft asks of Teams bots."""
    step = min(THROTTLE_BACKOFF_CAP_SECONDS, THROTTLE_BACKOFF_SECONDS * 2 ** streak)
    return step / 2 + random.uniform(0, step / 2)


class WorkspaceThrottle:
    """One workspace's "slow down" on one platform: paused until a moment (time.monotonic()),
    then probing with one request at a time until one gets through."""

    def __init__(self):
        self.paused_until = 0.0
        self.streak = 0  # throttles in a row, for the backoff when no Retry-After is given
        self.epoch = 0  # +1 per pause: a request begun in an older epoch was already in flight
        self.probing = False
        self.probe = asyncio.Lock()

    def is_open(self, now: float) -> bool:
        return self.paused_until <= now

    def throttled(self, seconds: float | None, began_in: int, now: float) -> float | None:
        """Pause after a throttled request; returns the wait when this starts a new pause, None
        when a request sent alongside it already paused us (it must not double the backoff)."""
        first = began_in == self.epoch
        wait = seconds if seconds is not None else (throttle_backoff(self.streak) if first else 0.0)
        self.paused_until = max(self.paused_until, now + wait)
        if not first:
            return None
        self.epoch += 1
        self.streak += 1
        self.probing = True
        return wait

    def got_through(self) -> None:
        self.streak = 0
        self.probing = False


@dataclass
class _Pass:
    """One pass over every message due: what it sent, and what it had to leave for later."""
    sent: int = 0
    closed: dict[ThrottleKey, float] = field(default_factory=dict)  # workspace -> paused until
    held: dict[Hashable, float] = field(default_factory=dict)  # conversation -> paced until
    # workspaces left for the next pass because a batch of theirs was in flight when others were leased
    passed_over: set[ThrottleKey] = field(default_factory=set)

    @property
    def resume_at(self) -> float | None:
        """When something left for later may go (time.monotonic()); None when nothing was."""
        # what was passed over goes at once, after a short beat when nothing went (all paced or
        # paused: no spinning on them)
        again = [time.monotonic() + (0.0 if self.sent else PASSED_OVER_BEAT)] if self.passed_over else []
        return min([*self.closed.values(), *self.held.values(), *again], default=None)


class OutboxSender:
    def __init__(
        self, db: Database, deliverers: Iterable[Deliverer], clock: Callable[[], datetime], *,
        max_attempts: int = 12, poll_seconds: float = 1.0, batch_size: int = 50, concurrency: int = 8,
        lease_seconds: float = LEASE.total_seconds(),
        person_ids: set[int] | None = None, channels: set[tuple[int, str]] | None = None,
    ):
        self.db = db
        self.deliverers = {d.platform: d for d in deliverers}
        self.clock = clock
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # sends in flight at once, each to a different conversation: what reaches a platform's
        # rate limit when every request takes a round trip
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        # With either filter, only messages to these people or posted in these (workspace id,
        # channel) pairs: a console sends its own user's messages, and its channel's posts when
        # it has one. With neither (`serve`, `tick`), every message.
        self.person_ids = person_ids
        self.channels = channels
        self._wake = asyncio.Event()
        self._stopping = False
        # one per workspace that has been sent to: a few hundred installations at most
        self._throttles: dict[ThrottleKey, WorkspaceThrottle] = {}
        self._throttled_in_a_row: dict[int, int] = {}  # message id -> throttles it met in a row
        self._to_mark_sent: dict[int, asyncio.Future] = {}  # delivered, waiting for their "sent"
        self._marking = asyncio.Lock()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """End run_forever after the sends in progress (cancelling one could cut a message off
        after it was leased, leaving it to wait out the lease)."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        while not self._stopping:
            resume_at = None
            try:
                resume_at = (await self._pass(stoppable=True)).resume_at
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox drain failed; retrying")
            timeout = self.poll_seconds
            if resume_at is not None:  # throttled or paced: come back as soon as allowed
                timeout = min(timeout, max(0.0, resume_at - time.monotonic()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                pass
            self._wake.clear()

    async def drain(self) -> int:
        """Send every message due now; returns how many were sent. Waits, in real seconds, for
        what the platforms ask (Retry-After, backoff, per-channel pacing), so `partnerbot tick`
        leaves behind only messages that failed, not ones that were merely told to wait."""
        sent = 0
        while True:
            done = await self._pass(stoppable=False)
            sent += done.sent
            if done.resume_at is None:
                return sent
            await asyncio.sleep(max(0.0, done.resume_at - time.monotonic()))

    async def _pass(self, *, stoppable: bool) -> _Pass:
        """Every message due, in id order, in leased batches; what must wait is handed back.

        Up to BATCHES_IN_FLIGHT batches are sent at once, each of workspaces no other batch in
        flight has: a workspace's messages are not spread over two batches at once, so they
        keep their order, and while one workspace waits for its next rate-limit window the others'
        batches go on. A workspace skipped because a batch of it was in flight sits out the rest
        of the pass (its later messages must not overtake the skipped ones); the next pass, at
        once, starts over from the first id. A pass also ends early once a workspace paused in it
        may send again, so that workspace waits out its own pause, not the time the others take."""
        done = _Pass()
        after = 0
        in_flight: dict[asyncio.Task, set[ThrottleKey]] = {}
        slots = asyncio.Semaphore(self.concurrency)  # shared by the batches in flight
        try:
            while not (stoppable and self._stopping) and not self._reopened(done):
                busy = set().union(*in_flight.values())
                batch = await self._claim(after, done, busy) if len(in_flight) < BATCHES_IN_FLIGHT else []
                if batch:
                    after = batch[-1].id
                    task = asyncio.create_task(self._send_batch(batch, done, stoppable, slots))
                    in_flight[task] = {m.throttle_key for m in batch}
                    continue
                if not in_flight:
                    break
                finished, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    del in_flight[task]
                    task.result()
        finally:
            # never cancelled: that could cut a message off after it was leased
            results = await asyncio.gather(*in_flight, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return done

    def _reopened(self, done: _Pass) -> bool:
        now = time.monotonic()
        return any(self._throttles[key].is_open(now) for key in done.closed)

    async def _send_batch(self, batch: list[Claimed], done: _Pass, stoppable: bool,
                          slots: asyncio.Semaphore) -> None:
        conversations: dict[Hashable, list[Claimed]] = {}
        for message in batch:  # id order within each conversation
            conversations.setdefault(message.conversation, []).append(message)
        released: list[int] = []  # leased, not sent: hand back

        async def one_conversation(messages: list[Claimed]) -> None:
            async with slots:
                for n, message in enumerate(messages):
                    if (stoppable and self._stopping) or not await self._send_in_turn(message, done):
                        released.extend(m.id for m in messages[n:])  # keep their order: all wait
                        return

        try:
            await asyncio.gather(*(one_conversation(m) for m in conversations.values()))
        finally:
            if released:
                await self._release(released)

    def _throttle(self, key: ThrottleKey) -> WorkspaceThrottle:
        if (throttle := self._throttles.get(key)) is None:
            throttle = self._throttles[key] = WorkspaceThrottle()
        return throttle

    def _must_wait(self, message: Claimed, done: _Pass) -> bool:
        now = time.monotonic()
        key = message.throttle_key
        throttle = self._throttle(key)
        if key in done.closed or not throttle.is_open(now):
            # for the rest of this pass: a later message to the workspace must not overtake one handed back
            done.closed[key] = throttle.paused_until
            return True
        if message.conversation in done.held:
            return True
        ready_at = getattr(self.deliverers[message.platform], "ready_at", None)
        if message.address is not None and ready_at is not None:
            if (until := ready_at(message.address)) > now:
                done.held[message.conversation] = until
                return True
        return False

    async def _send_in_turn(self, message: Claimed, done: _Pass) -> bool:
        """Send unless the workspace or the conversation must wait (False: hand it back)."""
        if self._must_wait(message, done):
            return False
        throttle = self._throttle(message.throttle_key)
        if throttle.probing:  # just throttled: one request at a time until one gets through
            async with throttle.probe:
                if self._must_wait(message, done):
                    return False
                if throttle.probing:
                    await self._send(message, done)
                    return True
        await self._send(message, done)
        return True

    def _workspaces_closed(self, done: _Pass) -> list[ThrottleKey]:
        """The workspaces paused now or earlier in this pass: their messages are not leased, so a
        batch is never filled with messages that can only be handed back (the others go on)."""
        now = time.monotonic()
        for key, throttle in self._throttles.items():
            if not throttle.is_open(now):
                done.closed.setdefault(key, throttle.paused_until)
        return sorted(done.closed)

    async def _claim(self, after: int, done: _Pass, busy: set[ThrottleKey]) -> list[Claimed]:
        """The next batch after id `after`, of workspaces neither paused nor `busy` (a batch of
        theirs in flight). When one is leased, the busy workspaces' messages it went past are
        left for the next pass: they sit this one out."""
        closed = self._workspaces_closed(done)
        async with self.db.transaction() as store:
            leased = await store.lease_due(platforms=list(self.deliverers), now=self.clock(), after=after,
                                           limit=self.batch_size, lease=self.lease, person_ids=self.person_ids,
                                           channels=self.channels,
                                           except_workspaces=sorted({*closed, *done.passed_over, *busy}))
        if leased:
            done.passed_over |= busy
        return [Claimed(m.id, m.platform, m.workspace, _address(m),
                        None if "crm" in m.payload else Reply.from_dict(m.payload), m.attempts, m.payload)
                for m in leased]

    async def _send(self, message: Claimed, done: _Pass) -> None:
        deliverer = self.deliverers[message.platform]
        throttle = self._throttle(message.throttle_key)
        began_in = throttle.epoch
        try:
            if message.address is None:
                raise Undeliverable("the recipient has no identity on this platform")
            if message.reply is None:  # a CRM write (handlers/crm), its payload the operation
                await deliverer.deliver_payload(message.address, message.payload)
            else:
                await deliverer.deliver(message.address, message.reply)
        except RetryAfter as throttled:
            await self._throttled(message, throttled, began_in, done)
            return
        except NotReachableYet:
            self._throttled_in_a_row.pop(message.id, None)
            await self._park_until_contact(message.id)
            return
        except Undeliverable as refused:
            self._throttled_in_a_row.pop(message.id, None)
            log.error("outbox %s undeliverable: %s", message.id, refused)
            await self._finish(message.id, status="failed", last_error=str(refused)[:500],
                               attempts=message.attempts + 1, lease_until=None)
            return
        except Exception as error:  # network trouble, 5xx: back off and retry
            self._throttled_in_a_row.pop(message.id, None)
            await self._failed(message, repr(error))
            return
        throttle.got_through()
        self._throttled_in_a_row.pop(message.id, None)
        await self._mark_sent(message.id)
        done.sent += 1

    async def _throttled(self, message: Claimed, throttled: RetryAfter, began_in: int, done: _Pass) -> None:
        """Not a failed attempt: the workspace pauses, the message goes back in line. Only one
        message throttled max_attempts times in a row counts one attempt and steps aside, so a
        message the platform always refuses this way cannot hold its workspace up."""
        key = message.throttle_key
        throttle = self._throttle(key)
        wait = throttle.throttled(throttled.seconds, began_in, time.monotonic())
        done.closed[key] = throttle.paused_until
        if wait is not None:
            told = "as told" if throttled.seconds is not None else "backing off"
            log.warning("%s throttled us; waiting %.1fs (%s) in workspace %s", key[0], wait, told, key[1])
        in_a_row = self._throttled_in_a_row.get(message.id, 0) + 1
        if in_a_row >= self.max_attempts:
            self._throttled_in_a_row.pop(message.id, None)
            await self._failed(message, f"throttled {in_a_row} times in a row: {throttled}")
            return
        self._throttled_in_a_row[message.id] = in_a_row
        await self._finish(message.id, lease_until=None, last_error=f"throttled: {throttled}"[:500])

    async def _failed(self, message: Claimed, error: str) -> None:
        attempts = message.attempts + 1
        delay = min(2 ** attempts, MAX_BACKOFF_SECONDS)
        status = "failed" if attempts >= self.max_attempts else "pending"
        log.warning("outbox %s attempt %d failed (%s); %s", message.id, attempts, error,
                    "giving up" if status == "failed" else f"retrying in {delay}s")
        await self._finish(message.id, status=status, attempts=attempts, last_error=error[:500],
                           next_attempt_at=self.clock() + timedelta(seconds=delay), lease_until=None)

    async def _park_until_contact(self, message_id: int) -> None:
        """Wait for the recipient's first contact, which releases the message at once
        (Store.remember_contact); the daily retry is only a safety net. If that contact came
        while we were trying, the release already happened: retry now instead of parking."""
        async with self.db.transaction() as store:
            arrived = await store.park_until_contact(message_id, self.clock(), WAIT_FOR_CONTACT)
        if arrived:
            self.wake()

    async def _mark_sent(self, message_id: int) -> None:
        """Mark a delivered message sent; returns once that is committed. Sends that finish while
        another mark is being written share the next UPDATE (a group commit): one transaction
        per message would cap a fan-out at the database's commit rate, not the platform's."""
        marked = asyncio.get_running_loop().create_future()
        self._to_mark_sent[message_id] = marked
        async with self._marking:
            if not marked.done():  # no neighbour's UPDATE took it: write every one waiting
                waiting, self._to_mark_sent = self._to_mark_sent, {}
                try:
                    async with self.db.transaction() as store:
                        await store.mark_sent(waiting, self.clock())
                except Exception as error:
                    for other in waiting.values():
                        if other is not marked:
                            other.set_exception(error)
                    raise
                for other in waiting.values():
                    other.set_result(None)
        await marked

    async def _release(self, message_ids: list[int]) -> None:
        """Hand leased messages back untouched: they wait for a pause or their conversation's pace."""
        async with self.db.transaction() as store:
            await store.release(message_ids)

    async def _finish(self, message_id: int, **values) -> None:
        async with self.db.transaction() as store:
            await store.update_message(message_id, **values)


def _address(message: Leased) -> Address | None:
    """Where a leased message goes; None when its recipient has no identity on that platform yet."""
    if message.channel:
        return Address(workspace=message.workspace, channel=message.channel, contact=message.contact)
    return Address(workspace=message.workspace, user=message.user, contact=message.contact) if message.user else None
