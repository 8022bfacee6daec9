"""Tables. Every record belongs to one workspace; user-facing numbers (C-n, H-n) are per workspace."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


class Workspace(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str  # slack | teams | console
    external_id: str  # Slack team_id, Teams tenantId, console workspace name
    created_at: datetime = _utc(nullable=False)


class Person(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    display_name: str
    timezone: Optional[str] = None  # set by the person with `timezone`; wins over the platform's
    platform_timezone: Optional[str] = None  # from the platform profile
    manager_id: Optional[int] = Field(default=None, foreign_key="person.id")
    created_at: datetime = _utc(nullable=False)


class Identity(SQLModel, table=True):
    """One platform account of a person (Slack user id, console name…)."""

    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str
    external_id: str
    # How to reach this person proactively on platforms that need it (a Teams conversation
    # reference), saved from their latest activity; None until they first talk to the bot.
    contact: Optional[dict] = Field(default=None, sa_column=Column(JSON))


class ChannelContact(SQLModel, table=True):
    """How to post into a channel proactively (a Teams channel's conversation reference),
    saved from the latest activity there."""

    __tablename__ = "channel_contact"
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    channel: str = Field(primary_key=True)
    contact: dict = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc(nullable=False)


class LinkCode(SQLModel, table=True):
    """A one-time code that joins a person's identities on two platforms (`link`)."""

    __tablename__ = "link_code"
    code: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    expires_at: datetime = _utc(nullable=False)


class Counter(SQLModel, table=True):
    """Next reference number per workspace and kind (C, H, …)."""

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    kind: str = Field(primary_key=True)
    value: int = 0


class Commitment(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_commitment_open_due", "workspace_id", "status", "due_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    owner_id: int = Field(foreign_key="person.id", index=True)
    created_by_id: int = Field(foreign_key="person.id")
    what: str
    due_date: date
    due_at: datetime = _utc(nullable=False)
    status: str = "open"  # open | done | dropped
    closed_at: Optional[datetime] = _utc(nullable=True)
    close_note: Optional[str] = None
    account: Optional[str] = None
    handoff_id: Optional[int] = Field(default=None, foreign_key="handoff.id")
    created_at: datetime = _utc(nullable=False)


class Handoff(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    from_id: int = Field(foreign_key="person.id", index=True)
    to_id: int = Field(foreign_key="person.id", index=True)
    account: str
    need: str
    due_date: Optional[date] = None
    stage: str = "identified"
    stage_changed_at: datetime = _utc(nullable=False)
    accepted_at: Optional[datetime] = _utc(nullable=True)
    declined_at: Optional[datetime] = _utc(nullable=True)
    decline_reason: Optional[str] = None
    created_at: datetime = _utc(nullable=False)


class ActivityLog(SQLModel, table=True):
    """Append-only audit trail, written in the transaction of the change it records."""

    __tablename__ = "activity_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    at: datetime = _utc(nullable=False)
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    platform: str
    action: str
    record: str  # the reference, e.g. "C-3"
    before: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    after: Optional[dict] = Field(default=None, sa_column=Column(JSON))


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes someone; sent by the outbox sender, at most once per key."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "platform", "next_attempt_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    idempotency_key: str = Field(unique=True)  # kind:record:period:recipient
    platform: str
    recipient_person_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    channel: Optional[str] = None  # a platform channel id, when not sent to a person
    payload: dict = Field(sa_column=Column(JSON, nullable=False))  # a serialised Reply
    status: str = "pending"  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _utc(nullable=False)
    lease_until: Optional[datetime] = _utc(nullable=True)  # a sender is working on it until then
    created_at: datetime = _utc(nullable=False)
    sent_at: Optional[datetime] = _utc(nullable=True)
    last_error: Optional[str] = None


class ProcessedDelivery(SQLModel, table=True):
    """Platform deliveries already handled (Slack event_id, trigger_id), to ignore retries."""

    __tablename__ = "processed_delivery"
    key: str = Field(primary_key=True)
    at: datetime = _utc(nullable=False)
