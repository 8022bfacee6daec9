"""Tables. Every record belongs to one workspace; user-facing numbers (C-n, H-n) are per workspace."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Optional, TypeVar

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, false, inspect, text
from sqlalchemy.orm.attributes import instance_dict
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


Row = TypeVar("Row", bound=SQLModel)


def new_row(model: type[Row], **values: Any) -> Row:
    """`model(**values)`, made as the ORM makes a row it loads: a bare instance, the values (and
    the defaults of the fields not given) put straight in its dict. Why: SQLModel's constructor
    sets each field through pydantic and then the ORM's change tracking, 50-90 µs a row against
    8-16, and every command makes one or two (its caller, a commitment: issue 25). The row is the
    same to read, to change and to add to a session."""
    fields = model.model_fields
    if unknown := values.keys() - fields.keys():
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    row = inspect(model).class_manager.new_instance()
    state = instance_dict(row)
    for name, field in fields.items():
        if name in values:
            state[name] = values[name]
        elif not field.is_required():
            state[name] = field.get_default(call_default_factory=True)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))  # as pydantic's constructor says
    return row


class Numbered:
    """A record people name by a letter and its number in its workspace: `commitment.ref`
    is "C-12". The one place a reference is spelt."""

    KIND: ClassVar[str]  # the letter; the table holds `number`

    @property
    def ref(self) -> str:
        return f"{self.KIND}-{self.number}"


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
    """One platform account of a person (Slack user id, Teams AAD object id, console name…)."""

    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),
                      UniqueConstraint("workspace_id", "channel_account_id", name="uq_identity_channel_account"))
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str
    # Slack user id; Teams: the AAD (Entra) object id, or the Teams user id (29:…) while the
    # person is known from a mention only (Teams sends a mention without the AAD object id)
    external_id: str
    # Teams: the Bot Framework user id (29:…), which mentions carry; a person is found by either
    channel_account_id: Optional[str] = None
    email: Optional[str] = None  # from the Teams roster or Slack's users:read.email, when given
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


# What a scorecard reads of a commitment besides its id: its figures and its window
# (storage/queries/reports.py: COUNTED)
COMMITMENT_COUNTED = ("status", "closed_at", "due_at", "created_at")


def _commitments_of(column: str) -> Index:
    """The index that finds a record's commitments (a sync's pledges, a meeting's action items, a
    lead's activities, a handoff's): covering what a scorecard counts of them, so that a busy
    partnership's report reads its 10,000 from four indexes, not from the table (13 → 6 ms on
    SQLite, 9 → 3 ms on PostgreSQL, bench/report_scale.py, issue 25); only over the commitments
    that have such a record (most have none), so that a plain `commit` writes none of the four."""
    where = text(f"{column} IS NOT NULL")
    # SQLite's indexes hold the id (the rowid) already; PostgreSQL's must include it
    return Index(f"ix_commitment_{column}", column, *COMMITMENT_COUNTED, sqlite_where=where, postgresql_where=where,
                 postgresql_include=["id"])


class Commitment(Numbered, SQLModel, table=True):
    KIND: ClassVar[str] = "C"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_commitment_open_due", "workspace_id", "status", "due_at"),
        *(_commitments_of(column) for column in ("handoff_id", "peer_sync_id", "meeting_id", "lead_id")),
        # one's own: the coaching view counts those kept and lists those overdue from this index
        Index("ix_commitment_owner_id", "owner_id", "status", "closed_at", "due_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    owner_id: int = Field(foreign_key="person.id")
    created_by_id: int = Field(foreign_key="person.id")
    what: str
    due_date: date
    due_at: datetime = _utc(nullable=False)
    status: str = "open"  # open | done | dropped
    closed_at: Optional[datetime] = _utc(nullable=True)
    close_note: Optional[str] = None
    account: Optional[str] = None
    handoff_id: Optional[int] = Field(default=None, foreign_key="handoff.id")
    peer_sync_id: Optional[int] = Field(default=None, foreign_key="peer_sync.id")  # a sync pledge
    meeting_id: Optional[int] = Field(default=None, foreign_key="meeting.id")  # an action item
    lead_id: Optional[int] = Field(default=None, foreign_key="lead.id")  # a lead's next activity
    created_at: datetime = _utc(nullable=False)
    # The next reminder or overdue notice (cadence_step) is due at cadence_at; None when nothing is.
    cadence_at: Optional[datetime] = _utc(nullable=True, index=True)
    cadence_step: Optional[str] = None  # reminder | overdue


class Handoff(Numbered, SQLModel, table=True):
    KIND: ClassVar[str] = "H"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    from_id: int = Field(foreign_key="person.id", index=True)
    to_id: int = Field(foreign_key="person.id", index=True)
    account: str
    need: str
    due_date: Optional[date] = Field(default=None, index=True)  # `by <date>`: reminded and overdue like a commitment
    stage: str = "identified"
    stage_changed_at: datetime = _utc(nullable=False)
    accepted_at: Optional[datetime] = _utc(nullable=True)
    declined_at: Optional[datetime] = _utc(nullable=True)
    decline_reason: Optional[str] = None
    created_at: datetime = _utc(nullable=False)
    accept_nudged_at: Optional[datetime] = _utc(nullable=True)  # the receiver was nudged to accept
    stale_reported_at: Optional[datetime] = _utc(nullable=True)  # managers told it is stuck in its stage
    # its `by` date's reminder and overdue notice were sent (to the sender before acceptance, else
    # the receiver); each goes once
    due_reminded_at: Optional[datetime] = _utc(nullable=True)
    overdue_notified_at: Optional[datetime] = _utc(nullable=True)


class Partnership(Numbered, SQLModel, table=True):
    """Two sides that sell together (P-n); lives in the workspace where it was created."""

    KIND: ClassVar[str] = "P"
    __table_args__ = (UniqueConstraint("workspace_id", "number"), UniqueConstraint("workspace_id", "name_key"))
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    name: str
    name_key: str  # the name folded for uniqueness ("acme alliance")
    created_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = _utc(nullable=False)
    charter_version: int = 1  # goes up with every change of the charter: both managers agree again
    # pending until the peer manager accepts it (no peer syncs, pulses or charter agreement
    # before), then active; declined when they decline
    status: str = Field(default="active", sa_column_kwargs={"server_default": "active"})
    accepted_at: Optional[datetime] = _utc(nullable=True)
    pulse_next_at: Optional[datetime] = _utc(nullable=True, index=True)  # the next monthly health pulse


class CharterRule(SQLModel, table=True):
    """A rule of a partnership's code of conduct; a partnership with none has the default five."""

    __tablename__ = "charter_rule"
    id: Optional[int] = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    text: str
    created_by_id: Optional[int] = Field(default=None, foreign_key="person.id")  # None: a default rule
    created_at: datetime = _utc(nullable=False)


class CharterAgreement(SQLModel, table=True):
    """A manager agreed to version `version` of the charter, at `agreed_at`."""

    __tablename__ = "charter_agreement"
    partnership_id: int = Field(foreign_key="partnership.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    version: int
    agreed_at: datetime = _utc(nullable=False)


class PartnershipMember(SQLModel, table=True):
    __tablename__ = "partnership_member"
    partnership_id: int = Field(foreign_key="partnership.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)
    side: str  # a | b
    role: str  # manager | rep
    added_at: datetime = _utc(nullable=False)


class PartnershipInvite(SQLModel, table=True):
    """Someone asked to join a side (a rep, or side B's manager for the whole partnership):
    they are not a member, and nobody is their manager through it, until they accept."""

    __tablename__ = "partnership_invite"
    partnership_id: int = Field(foreign_key="partnership.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)
    side: str  # a | b
    role: str  # manager | rep
    invited_by_id: int = Field(foreign_key="person.id")
    invited_at: datetime = _utc(nullable=False)


class PartnershipGoal(SQLModel, table=True):
    __tablename__ = "partnership_goal"
    id: Optional[int] = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    text: str
    created_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = _utc(nullable=False)


class PartnershipChannel(SQLModel, table=True):
    """A channel (Slack or Teams) where the partnership's digests are posted."""

    __tablename__ = "partnership_channel"
    partnership_id: int = Field(foreign_key="partnership.id", primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)  # the channel's own workspace
    channel: str = Field(primary_key=True)
    platform: str
    bound_at: datetime = _utc(nullable=False)


class SyncSeries(SQLModel, table=True):
    """A manager's weekly peer-sync prompt: its rule, and when it next fires (their timezone)."""

    __tablename__ = "sync_series"
    __table_args__ = (UniqueConstraint("partnership_id", "person_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id")
    person_id: int = Field(foreign_key="person.id")
    weekday: str  # mon … sun
    time: str  # HH:MM
    timezone: str  # the one next_run_at was computed in
    next_run_at: datetime = _utc(nullable=False, index=True)


class PeerSync(Numbered, SQLModel, table=True):
    """One week's peer sync of a partnership (S-n); week is the ISO week of the prompt's local date."""

    KIND: ClassVar[str] = "S"
    __tablename__ = "peer_sync"
    __table_args__ = (UniqueConstraint("workspace_id", "number"), UniqueConstraint("partnership_id", "week"))
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    partnership_id: int = Field(foreign_key="partnership.id")
    week: str  # 2026-W48
    opened_at: datetime = _utc(nullable=False)
    deadline_at: datetime = _utc(nullable=False, index=True)  # the digest goes out then at the latest
    pledges_due_at: datetime = _utc(nullable=False)  # the next sync: pledges are due by then
    digest_at: Optional[datetime] = _utc(nullable=True)


class SyncAnswer(SQLModel, table=True):
    """A manager's part in one peer sync: prompted, nudged, answered."""

    __tablename__ = "sync_answer"
    peer_sync_id: int = Field(foreign_key="peer_sync.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    side: str
    prompted_at: Optional[datetime] = _utc(nullable=True)
    nudges: int = 0
    last_nudged_at: Optional[datetime] = _utc(nullable=True)
    answered_at: Optional[datetime] = _utc(nullable=True)
    edited_at: Optional[datetime] = _utc(nullable=True)
    answers: Optional[dict] = Field(default=None, sa_column=Column(JSON))


class MeetingSeries(SQLModel, table=True):
    """A community-of-practice series of a partnership: a purpose, a weekly slot in the
    organiser's timezone, and when its next occurrence starts."""

    __tablename__ = "meeting_series"
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    organiser_id: int = Field(foreign_key="person.id")
    purpose: str
    weekday: str  # mon … sun
    time: str  # HH:MM
    minutes: int
    timezone: str  # the one next_start_at was computed in
    next_start_at: datetime = _utc(nullable=False, index=True)
    created_at: datetime = _utc(nullable=False)
    stopped_at: Optional[datetime] = _utc(nullable=True)  # `meeting stop`: no more occurrences


class Meeting(Numbered, SQLModel, table=True):
    """One occurrence of a series (M-n), created when it starts."""

    KIND: ClassVar[str] = "M"
    __table_args__ = (UniqueConstraint("workspace_id", "number"), UniqueConstraint("series_id", "starts_at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    series_id: int = Field(foreign_key="meeting_series.id", index=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    organiser_id: int = Field(foreign_key="person.id", index=True)
    purpose: str  # the series' purpose when it was held
    starts_at: datetime = _utc(nullable=False)
    ends_at: datetime = _utc(nullable=False)
    closed_at: Optional[datetime] = _utc(nullable=True)
    closed_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    nudges: int = 0
    # The end prompt (cadence_step "end") or the next nudge ("nudge") is due at cadence_at.
    cadence_at: Optional[datetime] = _utc(nullable=True, index=True)
    cadence_step: Optional[str] = None


class Lead(Numbered, SQLModel, table=True):
    """An account lead born from an idea (L-n); its next activities are commitments."""

    KIND: ClassVar[str] = "L"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    account: str
    idea: str
    owner_id: int = Field(foreign_key="person.id", index=True)
    created_by_id: int = Field(foreign_key="person.id", index=True)  # the originator
    meeting_id: Optional[int] = Field(default=None, foreign_key="meeting.id", index=True)
    partnership_id: Optional[int] = Field(default=None, foreign_key="partnership.id", index=True)
    status: str = "open"  # open | won | lost
    # the amount won, in hundredths of the currency unit; 64-bit: $21.5M overflowed a 32-bit INTEGER
    amount_cents: Optional[int] = Field(default=None, sa_type=BigInteger)
    close_reason: Optional[str] = None
    closed_at: Optional[datetime] = _utc(nullable=True)
    created_at: datetime = _utc(nullable=False)


class Ask(Numbered, SQLModel, table=True):
    """A request for help (Q-n) from one person to another, timed to its first response."""

    KIND: ClassVar[str] = "Q"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    number: int
    asker_id: int = Field(foreign_key="person.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)  # who is asked
    request: str
    due_date: Optional[date] = None
    handoff_id: Optional[int] = Field(default=None, foreign_key="handoff.id")
    lead_id: Optional[int] = Field(default=None, foreign_key="lead.id")
    partnership_id: Optional[int] = Field(default=None, foreign_key="partnership.id", index=True)
    status: str = "open"  # open | accepted | declined | answered
    created_at: datetime = _utc(nullable=False)
    first_response_at: Optional[datetime] = _utc(nullable=True)  # accept, decline or answer, whichever first
    accepted_at: Optional[datetime] = _utc(nullable=True)
    declined_at: Optional[datetime] = _utc(nullable=True)
    decline_reason: Optional[str] = None
    answered_at: Optional[datetime] = _utc(nullable=True)
    answer: Optional[str] = None
    # The nudge (cadence_step "nudge") or the escalation to the person's manager ("escalate")
    # is due at cadence_at while nobody has responded.
    cadence_at: Optional[datetime] = _utc(nullable=True, index=True)
    cadence_step: Optional[str] = None


class Pulse(SQLModel, table=True):
    """One health check of a partnership: every member rates the five "shared" from 1 to 5."""

    __table_args__ = (UniqueConstraint("partnership_id", "period"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    period: str  # 2026-12 for the monthly pulse, or the instant of a `pulse` asked for
    opened_at: datetime = _utc(nullable=False)
    closes_at: datetime = _utc(nullable=False, index=True)
    closed_at: Optional[datetime] = _utc(nullable=True)


class PulseAnswer(SQLModel, table=True):
    __tablename__ = "pulse_answer"
    pulse_id: int = Field(foreign_key="pulse.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    side: str
    scores: Optional[dict] = Field(default=None, sa_column=Column(JSON))  # dimension -> 1..5
    comment: Optional[str] = None
    answered_at: Optional[datetime] = _utc(nullable=True)


class Win(SQLModel, table=True):
    """A won handoff or lead (`win`), recorded once, with the credit split computed then."""

    __table_args__ = (UniqueConstraint("workspace_id", "record"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")  # the workspace of the record won
    record: str  # H-3 or L-2
    handoff_id: Optional[int] = Field(default=None, foreign_key="handoff.id", unique=True)
    lead_id: Optional[int] = Field(default=None, foreign_key="lead.id", unique=True)
    amount_cents: Optional[int] = Field(default=None, sa_type=BigInteger)  # as Lead.amount_cents
    won_by_id: int = Field(foreign_key="person.id")  # who recorded it
    won_at: datetime = _utc(nullable=False)


class WinCredit(SQLModel, table=True):
    """One person's part of a win: their roles (originator, deliverer, contributor) and share."""

    __tablename__ = "win_credit"
    win_id: int = Field(foreign_key="win.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)
    roles: str  # comma-separated, e.g. "originator,contributor"
    share: float  # of the whole win, 0..1; a win's shares add up to 1


class ExportToken(SQLModel, table=True):
    """A download link of a partnership's activity log (`export`); only the token's SHA-256 is
    kept, so the database alone does not give anyone a working link."""

    __tablename__ = "export_token"
    token_hash: str = Field(primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    partnership_id: int = Field(foreign_key="partnership.id")
    created_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = _utc(nullable=False)
    expires_at: datetime = _utc(nullable=False)


class Claim(SQLModel, table=True):
    """Scheduled work already done: the key (kind:record:period:recipient) is inserted, in the
    transaction of the work, before the work; a second tick or process finds it and skips."""

    key: str = Field(primary_key=True)
    at: datetime = _utc(nullable=False)


class ActivityLog(SQLModel, table=True):
    """Append-only audit trail, written in the transaction of the change it records."""

    __tablename__ = "activity_log"
    # a record's history (a partnership's export asks for its records' rows)
    __table_args__ = (Index("ix_activity_log_record", "workspace_id", "record"),)
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
    at: datetime = _utc(nullable=False, index=True)  # the tick forgets them after retention.processed_delivery_days


class LinkRequest(SQLModel, table=True):
    """`link <code>` typed on another platform: the code's issuer is asked to confirm it, and
    nothing is joined before they do. It lapses when its code would have."""

    __tablename__ = "link_request"
    # ids are never reused (SQLite would give a deleted last id again): a button of an answered
    # request must not answer a newer one
    __table_args__ = {"sqlite_autoincrement": True}
    id: Optional[int] = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="person.id", index=True)  # typed `link`; the only one who confirms
    requester_id: int = Field(foreign_key="person.id", index=True)  # typed the code
    workspace_id: int = Field(foreign_key="workspace.id")  # the requester's, where the code was typed
    platform: str  # the requester's
    created_at: datetime = _utc(nullable=False)
    expires_at: datetime = _utc(nullable=False, index=True)


class LinkAttempt(SQLModel, table=True):
    """A wrong link code someone typed: after five in an hour, `link <code>` waits."""

    __tablename__ = "link_attempt"
    __table_args__ = (Index("ix_link_attempt_person_at", "person_id", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    at: datetime = _utc(nullable=False, index=True)


class PersonLink(SQLModel, table=True):
    """Two people joined by `link`, kept so that `unlink` can split them again: the absorbed
    person as they were, and which rows became the keeper's."""

    __tablename__ = "person_link"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused: `moved` names links by id
    id: Optional[int] = Field(default=None, primary_key=True)
    keeper_id: int = Field(foreign_key="person.id", index=True)  # the code's issuer, who stayed
    linked_at: datetime = _utc(nullable=False)
    # the absorbed person (the requester), deleted while linked: no foreign keys to them
    absorbed_id: int
    workspace_id: int = Field(foreign_key="workspace.id")
    display_name: str
    timezone: Optional[str] = None
    platform_timezone: Optional[str] = None
    manager_id: Optional[int] = None
    created_at: datetime = _utc(nullable=False)
    # the keeper's timezones before the link (a blank one was filled from the absorbed person's)
    keeper_timezone: Optional[str] = None
    keeper_platform_timezone: Optional[str] = None
    # "table.column" -> {"key": key column names, "rows": [key values]}: rows moved to the keeper
    moved: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # "table.column" -> [row as it was]: the absorbed person's rows deleted because the keeper had
    # one for the same record (both members of one partnership, say)
    deleted: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SlackInstallation(SQLModel, table=True):
    """The app's installation in one Slack workspace, or org-wide in an Enterprise Grid org
    (`is_enterprise_install`, no team): the bot token the outbox and replies use there. One row
    per workspace or org: a reinstall replaces it, an uninstall deletes it. The columns are
    slack_sdk's Installation's (its SQLAlchemy store's), less the incoming webhook we never ask for."""

    __tablename__ = "slack_installation"
    # '' where Slack gives no id (no org; an org-wide install has no team): a unique key cannot hold NULL
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id", name="uq_slack_installation_workspace"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    app_id: Optional[str] = None
    enterprise_id: str = ""
    enterprise_name: Optional[str] = None
    enterprise_url: Optional[str] = None
    team_id: str = Field(default="", index=True)
    team_name: Optional[str] = None
    is_enterprise_install: bool = False
    token_type: Optional[str] = None
    bot_token: Optional[str] = None
    bot_id: Optional[str] = None
    bot_user_id: Optional[str] = None
    bot_scopes: Optional[str] = None  # comma-separated, as Slack gives them
    bot_refresh_token: Optional[str] = None  # token rotation only
    bot_token_expires_at: Optional[datetime] = _utc(nullable=True)
    user_id: str  # who installed
    user_token: Optional[str] = None
    user_scopes: Optional[str] = None
    user_refresh_token: Optional[str] = None
    user_token_expires_at: Optional[datetime] = _utc(nullable=True)
    installed_at: datetime = _utc(nullable=False)


class SlackOAuthState(SQLModel, table=True):
    """The `state` of an "Add to Slack" link: good for one redirect, until it expires."""

    __tablename__ = "slack_oauth_state"
    state: str = Field(primary_key=True)
    expires_at: datetime = _utc(nullable=False, index=True)


class SlackOrgTeam(SQLModel, table=True):
    """A workspace of an Enterprise Grid org, as a request from it showed: how a message owed
    to that workspace (the outbox knows its team id only) finds the org-wide installation."""

    __tablename__ = "slack_org_team"
    team_id: str = Field(primary_key=True)
    enterprise_id: str


class DashboardSignIn(SQLModel, table=True):
    """A one-time sign-in link to the web dashboard (`dashboard`): good once, for 10 minutes.
    Only the token's SHA-256 is kept, so the database alone gives nobody a working link."""

    __tablename__ = "dashboard_sign_in"
    token_hash: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    expires_at: datetime = _utc(nullable=False)
    used_at: Optional[datetime] = _utc(nullable=True)
    # an admin or executive when they asked for the link (the platform said so then): the
    # session it opens sees the whole workspace (handlers/partnerships/policy.dashboard_view)
    whole_workspace: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class DashboardSession(SQLModel, table=True):
    """A browser signed in to the dashboard: its cookie's SHA-256, whose it is, until when; ended
    by /app/logout or `dashboard signout` (ended_at set)."""

    __tablename__ = "dashboard_session"
    token_hash: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = _utc(nullable=False)
    expires_at: datetime = _utc(nullable=False)
    ended_at: Optional[datetime] = _utc(nullable=True)
    whole_workspace: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class OverviewSnapshot(SQLModel, table=True):
    """The dashboard's overview of one set of partnerships as computed at `computed_at` (the
    page's rows and trends as JSON): shown to whoever sees exactly that set, computed again once
    it is a few minutes old (handlers/reports/overview_snapshot.py)."""

    __tablename__ = "overview_snapshot"
    __table_args__ = (UniqueConstraint("workspace_id", "scope_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    scope_key: str  # SHA-256 of the sorted partnership ids: one snapshot per set, whoever views it
    partnership_ids: list = Field(sa_column=Column(JSON, nullable=False))
    computed_at: datetime = _utc(nullable=False)
    viewed_at: datetime = _utc(nullable=False, index=True)
    payload: dict = Field(sa_column=Column(JSON, nullable=False))


class CalendarFeed(SQLModel, table=True):
    """A private calendar subscription link (`meeting calendar`, `sync calendar`): only its token's
    SHA-256 is kept. It works until revoked, and only while its person is still a member of the
    partnership (a manager, for a peer sync's)."""

    __tablename__ = "calendar_feed"
    token_hash: str = Field(primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    partnership_id: int = Field(foreign_key="partnership.id")
    meeting_series_id: Optional[int] = Field(default=None, foreign_key="meeting_series.id")  # None: the peer sync's
    created_at: datetime = _utc(nullable=False)
    revoked_at: Optional[datetime] = _utc(nullable=True)


class CrmLink(SQLModel, table=True):
    """The CRM object one of our records became (L-3 → a HubSpot deal): found here before anything
    is created there, so a write retried after a crash updates it instead of making a second."""

    __tablename__ = "crm_link"
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    record: str = Field(primary_key=True)  # "L-3", "H-2", "C-7"
    crm: str  # "hubspot"
    crm_id: str
    updated_at: datetime = _utc(nullable=False)


class CrmCursor(SQLModel, table=True):
    """How far the tick has turned the activity log into CRM writes (handlers/crm/jobs.py), and
    read the CRM's own changes back (handlers/crm/reconcile.py)."""

    __tablename__ = "crm_cursor"
    crm: str = Field(primary_key=True)
    last_log_id: int
    updated_at: datetime = _utc(nullable=False)
    read_until: Optional[datetime] = _utc(nullable=True)  # the CRM's changes read back up to (reconcile.py)
    setup_notice: Optional[str] = None  # what the CRM's setup means for admins (splits off: notes), crm status
