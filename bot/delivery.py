"""What the outbox sender asks of a platform: deliver one message to one address."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handlers.model import Reply


@dataclass(frozen=True)
class Address:
    workspace: str  # the platform's workspace id (Slack team_id…)
    user: str | None = None  # a platform user id, for a direct message
    channel: str | None = None  # a platform channel id
    contact: dict | None = None  # the stored way to reach `user` (Teams conversation reference)


class RetryAfter(Exception):
    """The platform is throttling us: try again after `seconds`, do not count it as a failure."""

    def __init__(self, seconds: float):
        super().__init__(f"rate limited for {seconds}s")
        self.seconds = seconds


class NotReachableYet(Exception):
    """The recipient has never talked to the bot on this platform; wait for their first contact."""


class Undeliverable(Exception):
    """The platform refuses this message for good (no such user, archived channel…)."""


class Deliverer(Protocol):
    platform: str

    async def deliver(self, address: Address, reply: Reply) -> None: ...
