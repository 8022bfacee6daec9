"""What the outbox sender asks of a platform: deliver one message to one address, and say
when an address may next be written to. The vocabulary every platform adapter speaks, next to
the neutral model, so that adapters depend on the core and never on the wiring (bot/)."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from handlers.kernel.model import Reply


@dataclass(frozen=True)
class Address:
    workspace: str  # the platform's workspace id (Slack team_id…)
    user: str | None = None  # a platform user id, for a direct message
    channel: str | None = None  # a platform channel id
    contact: dict | None = None  # the stored way to reach `user` (Teams conversation reference)

    @property
    def key(self) -> tuple[str, str, str]:
        """One conversation: a channel, or the direct chat with one person."""
        return (self.workspace, "channel", self.channel) if self.channel else (self.workspace, "user", self.user or "")


class RetryAfter(Exception):
    """The platform is throttling us: try again after `seconds` (None: it did not say; back off
    exponentially). Not a failed attempt."""

    def __init__(self, seconds: float | None = None):
        super().__init__(f"rate limited for {seconds}s" if seconds is not None else "rate limited")
        self.seconds = seconds


class NotReachableYet(Exception):
    """The recipient has never talked to the bot on this platform; wait for their first contact."""


class Undeliverable(Exception):
    """The platform refuses this message for good (no such user, archived channel…)."""


class Deliverer(Protocol):
    platform: str

    async def deliver(self, address: Address, reply: Reply) -> None: ...

    # Optional: when `address` may next be written to (time.monotonic() seconds). A deliverer
    # without it is never paced. The sender holds just that address's messages until then.
    # def ready_at(self, address: Address) -> float: ...


class ChannelPacer:
    """At most one message per `interval` seconds into any one conversation, after a first
    `burst` (Slack allows about one chat.postMessage a second per channel). The generic cell
    rate algorithm: one "theoretical arrival time" per conversation. Remembers only
    conversations written to lately, so a fan-out to 10,000 people does not grow it."""

    PRUNE_EVERY = 1024  # sends between two sweeps of the expired entries

    def __init__(self, interval: float, *, burst: int = 1, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.slack = (burst - 1) * interval  # how far ahead of its pace a conversation may run
        self.clock = clock
        self._tat: dict[Hashable, float] = {}  # conversation -> when its pace would allow the next send
        self._since_prune = 0

    def ready_at(self, key: Hashable) -> float:
        return self._tat.get(key, 0.0) - self.slack

    def note_sent(self, key: Hashable) -> float:
        """Called as a send starts (before any await), so two sends cannot both pass ready_at.
        Returns the conversation's state before, for `refused`."""
        now = self.clock()
        before = self._tat.get(key, 0.0)
        self._tat[key] = max(before, now) + self.interval
        self._since_prune += 1
        if self._since_prune >= self.PRUNE_EVERY:
            self._since_prune = 0
            self._tat = {k: t for k, t in self._tat.items() if t > now}
        return before

    def posted(self, key: Hashable, before: float) -> None:
        """The send came back: count its pace from now, not from when it started. Opening a DM
        or a slow loop may hold a request up, and the platform counts arrivals, so two posts
        whose starts were a second apart could otherwise arrive closer than that."""
        self._tat[key] = max(self._tat.get(key, 0.0), max(before, self.clock()) + self.interval)

    def refused(self, key: Hashable, before: float) -> None:
        """The platform turned the send away (throttled): it put nothing in the channel."""
        self._tat[key] = before


class RecordLinks(Protocol):
    """Where a record went outside (L-3 → a CRM deal id): read before writing, kept after, so a
    write retried after a crash finds what the first attempt made. bot/ implements it."""

    async def get(self, workspace_id: int, record: str) -> str | None: ...

    async def put(self, workspace_id: int, record: str, external_id: str) -> None: ...

    async def tell_admins(self, notice: str | None) -> None:
        """What the CRM's own setup means for admins (`crm status` shows it); None: nothing to say."""


class PayloadDeliverer(Protocol):
    """A deliverer of rows that are no chat message (a CRM write): it gets the row's payload."""

    platform: str

    async def deliver_payload(self, address: Address, payload: dict) -> None: ...


@dataclass(frozen=True)
class CrmChange:
    """A deal changed in the CRM since the last read: where it stands there now. The CRM is the
    system of record for stage, amount and close date (handlers/crm/reconcile.py applies them)."""

    workspace_id: int
    record: str  # "L-3", "H-2": the record the deal was written from
    stage: str  # ours, mapped back by the adapter: a handoff's stage, a lead's open / won / lost
    amount_cents: int | None
    close_date: str | None  # YYYY-MM-DD
    modified_at: datetime


class CrmReader(Protocol):
    """Reads back what changed in the CRM (the deals written from our records)."""

    async def changes_since(self, since: datetime | None) -> list[CrmChange]: ...
