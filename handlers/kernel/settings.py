"""The settings handlers read, as typed sections: `ctx.settings.cadence.peer_sync.weekday`.

bot/config.py loads them (defaults, app.yaml, PARTNERBOT_* variables), checks every value at
start and builds these sections; a handler never looks a setting up by a string path, so a
misspelt one is an AttributeError at the first test, not a KeyError in production.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PeerSyncSettings:
    weekday: str  # mon … sun: when each manager is prompted (new partnerships)
    time: str  # HH:MM on the manager's clock
    nudge_after_hours: float
    max_nudges: int


@dataclass(frozen=True)
class CommitmentSettings:
    due_time: str  # HH:MM: a commitment is due at this time of its date, owner's clock
    remind_before_hours: float


@dataclass(frozen=True)
class MeetingSettings:
    nudge_hours: float
    default_minutes: int
    quiet_from: str  # HH:MM: nudges wait between these, on the organiser's clock
    quiet_until: str


@dataclass(frozen=True)
class HandoffSettings:
    accept_within_hours: float
    stale_after_days: float


@dataclass(frozen=True)
class AskSettings:
    nudge_after_hours: float
    escalate_after_hours: float


@dataclass(frozen=True)
class PulseSettings:
    day: str  # mon … sun: the pulse opens on the first one of each month
    close_after_days: float
    min_answers: int  # a side's averages and comments are shown only when this many of it answered


@dataclass(frozen=True)
class CadenceSettings:
    tick_seconds: float
    peer_sync: PeerSyncSettings
    commitments: CommitmentSettings
    meetings: MeetingSettings
    handoffs: HandoffSettings
    asks: AskSettings
    pulse: PulseSettings


@dataclass(frozen=True)
class CreditSettings:
    """Each role's part of a win (0 or more, adding up to 1)."""

    originator: float
    deliverer: float
    contributors: float


@dataclass(frozen=True)
class RetentionSettings:
    """How long the tick keeps what only serves for a while."""

    processed_delivery_days: float  # platform delivery ids kept to ignore retries (Slack's come within minutes)


class SettingsLike(Protocol):
    timezone: str  # the default clock of people whose own is not known
    admins: frozenset[str]  # "platform:workspace:user id" of people who may set managers
    executives: frozenset[str]  # "platform:workspace:user id" whose dashboard sees the whole workspace
    public_url: str  # where people reach `serve` (download links)
    crm_provider: str | None  # "hubspot" or "salesforce" when a CRM is connected (handlers/crm)
    crm_workspaces: frozenset[str]  # "platform:workspace" whose records go out to it; empty: all
    cadence: CadenceSettings
    credit: CreditSettings
    retention: RetentionSettings
