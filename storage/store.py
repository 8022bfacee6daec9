"""The repository handlers call: one instance per transaction (a session)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ActivityLog,
    Ask,
    CharterAgreement,
    CharterRule,
    ChannelContact,
    Commitment,
    Counter,
    Handoff,
    Identity,
    Lead,
    LinkCode,
    Meeting,
    MeetingSeries,
    OutboxMessage,
    Partnership,
    PartnershipGoal,
    PartnershipMember,
    Person,
    ProcessedDelivery,
    PulseAnswer,
    SyncAnswer,
    SyncSeries,
    Win,
    WinCredit,
    ExportToken,
    Workspace,
)
from storage.queries.asks import AskQueries
from storage.queries.peer_sync import CadenceQueries
from storage.queries.meetings import MeetingQueries
from storage.queries.partnerships import PartnershipQueries
from storage.queries.pulse import PulseQueries
from storage.queries.exports import ExportQueries
from storage.queries.reports import ReportQueries
from storage.queries.wins import WinQueries


class Store(PartnershipQueries, MeetingQueries, AskQueries, PulseQueries, CadenceQueries, ReportQueries, WinQueries,
            ExportQueries):
    def __init__(self, session: AsyncSession):
        self.session = session
        self.enqueued = 0  # messages written to the outbox in this transaction

    # --- helpers -------------------------------------------------------------------------
    def _insert(self, model: Any):
        """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share the syntax)."""
        dialect = self.session.bind.dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)

    async def _insert_ignore(self, model: Any, values: dict, conflict: Sequence[str]) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted."""
        stmt = self._insert(model).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
        result = await self.session.exec(stmt)
        return result.rowcount == 1

    async def add(self, *rows: Any) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # --- deliveries, workspaces, people ---------------------------------------------------
    async def claim_delivery(self, key: str, now: datetime) -> bool:
        """Record a platform delivery id; False when it was handled before (a retry)."""
        return await self._insert_ignore(ProcessedDelivery, {"key": key, "at": now}, ["key"])

    async def workspace(self, platform: str, external_id: str, now: datetime) -> Workspace:
        query = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
        found = (await self.session.exec(query)).scalars().first()
        if found:
            return found
        await self._insert_ignore(
            Workspace, {"platform": platform, "external_id": external_id, "created_at": now},
            ["platform", "external_id"],
        )
        return (await self.session.exec(query)).scalars().one()

    async def person_by_identity(self, workspace_id: int, external_id: str) -> Person | None:
        query = (
            select(Person)
            .join(Identity, Identity.person_id == Person.id)
            .where(Identity.workspace_id == workspace_id, Identity.external_id == external_id)
        )
        return (await self.session.exec(query)).scalars().first()

    async def person(
        self, workspace: Workspace, external_id: str, name: str | None, now: datetime
    ) -> Person:
        """The person behind a platform user id, created on first sight."""
        found = await self.person_by_identity(workspace.id, external_id)
        if found:
            if name and found.display_name != name and found.display_name == external_id:
                found.display_name = name  # learnt a real name for someone known by id only
            return found
        person = Person(workspace_id=workspace.id, display_name=name or external_id, created_at=now)
        await self.add(person)
        inserted = await self._insert_ignore(
            Identity,
            {"workspace_id": workspace.id, "person_id": person.id,
             "platform": workspace.platform, "external_id": external_id},
            ["workspace_id", "external_id"],
        )
        if not inserted:  # another process created them a moment ago
            await self.session.delete(person)
            return await self.person_by_identity(workspace.id, external_id)
        return person

    async def get_person(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def people(self, ids: set[int]) -> dict[int, Person]:
        if not ids:
            return {}
        rows = (await self.session.exec(select(Person).where(Person.id.in_(ids)))).scalars().all()
        return {p.id: p for p in rows}

    async def remember_contact(self, workspace_id: int, external_id: str, contact: dict, now: datetime) -> bool:
        """Save how to reach an identity; True on first contact, which releases what waited for it."""
        query = select(Identity).where(Identity.workspace_id == workspace_id, Identity.external_id == external_id)
        identity = (await self.session.exec(query)).scalars().one()
        first = identity.contact is None
        if identity.contact != contact:
            identity.contact = contact
        if first:
            released = await self.session.exec(
                update(OutboxMessage)
                .where(OutboxMessage.recipient_person_id == identity.person_id,
                       OutboxMessage.platform == identity.platform, OutboxMessage.status == "pending")
                .values(next_attempt_at=now)
            )
            self.enqueued += released.rowcount
        return first

    async def remember_channel(self, workspace_id: int, channel: str, contact: dict, now: datetime) -> None:
        stmt = (
            self._insert(ChannelContact)
            .values(workspace_id=workspace_id, channel=channel, contact=contact, updated_at=now)
            .on_conflict_do_update(index_elements=["workspace_id", "channel"],
                                   set_={"contact": contact, "updated_at": now})
        )
        await self.session.exec(stmt)

    async def reachable(self, person_id: int, platform: str, needs_contact: bool) -> bool:
        if not needs_contact:
            return True
        query = select(Identity.contact).where(Identity.person_id == person_id, Identity.platform == platform)
        return any(c is not None for c in (await self.session.exec(query)).scalars().all())

    # --- linking identities ---------------------------------------------------------------
    async def issue_link_code(self, code: str, person_id: int, expires_at: datetime) -> None:
        await self.session.exec(delete(LinkCode).where(LinkCode.person_id == person_id))  # one live code each
        self.session.add(LinkCode(code=code, person_id=person_id, expires_at=expires_at))

    async def take_link_code(self, code: str) -> LinkCode | None:
        """The code, used up (a code works once)."""
        found = await self.session.get(LinkCode, code)
        if found:
            await self.session.delete(found)
        return found

    async def merge_person(self, absorbed: Person, into: Person) -> None:
        """Everything of `absorbed` becomes `into`'s: identities, records, log, messages."""
        await self.session.flush()  # pending changes to `absorbed` go out before it does
        absorbed_id, into_id = absorbed.id, into.id
        into.timezone = into.timezone or absorbed.timezone
        into.platform_timezone = into.platform_timezone or absorbed.platform_timezone
        moves = [
            (Identity.person_id, Identity), (Commitment.owner_id, Commitment),
            (Commitment.created_by_id, Commitment), (Handoff.from_id, Handoff), (Handoff.to_id, Handoff),
            (ActivityLog.person_id, ActivityLog), (OutboxMessage.recipient_person_id, OutboxMessage),
            (Person.manager_id, Person), (LinkCode.person_id, LinkCode),
            (Partnership.created_by_id, Partnership), (PartnershipGoal.created_by_id, PartnershipGoal),
            (MeetingSeries.organiser_id, MeetingSeries), (Meeting.organiser_id, Meeting),
            (Meeting.closed_by_id, Meeting), (Lead.owner_id, Lead), (Lead.created_by_id, Lead),
            (Ask.asker_id, Ask), (Ask.person_id, Ask), (CharterRule.created_by_id, CharterRule),
            (Win.won_by_id, Win), (ExportToken.created_by_id, ExportToken),
        ]
        # rows keyed by (record, person): where both were in it, `into`'s row stands
        for column, model, record in ((PartnershipMember.person_id, PartnershipMember, PartnershipMember.partnership_id),
                                      (SyncSeries.person_id, SyncSeries, SyncSeries.partnership_id),
                                      (SyncAnswer.person_id, SyncAnswer, SyncAnswer.peer_sync_id),
                                      (CharterAgreement.person_id, CharterAgreement, CharterAgreement.partnership_id),
                                      (PulseAnswer.person_id, PulseAnswer, PulseAnswer.pulse_id),
                                      (WinCredit.person_id, WinCredit, WinCredit.win_id)):
            both = select(record).where(column == into_id).scalar_subquery()
            await self.session.exec(delete(model).where(column == absorbed_id, record.in_(both)))
            moves.append((column, model))
        for column, model in moves:
            await self.session.exec(update(model).where(column == absorbed_id).values({column.key: into_id}))
        await self.session.exec(delete(Person).where(Person.id == absorbed_id))
        self.session.expunge(absorbed)

    async def workspace_platforms(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = (await self.session.exec(select(Workspace.id, Workspace.platform).where(Workspace.id.in_(ids)))).all()
        return dict(rows)

    async def platforms_of(self, person_id: int) -> list[str]:
        query = select(Identity.platform).where(Identity.person_id == person_id)
        return list((await self.session.exec(query)).scalars().all())

    # --- numbering and the activity log ---------------------------------------------------
    async def next_number(self, workspace_id: int, kind: str) -> int:
        """The next reference number, in one upsert: the row lock serialises concurrent callers."""
        stmt = (
            self._insert(Counter)
            .values(workspace_id=workspace_id, kind=kind, value=1)
            .on_conflict_do_update(index_elements=["workspace_id", "kind"], set_={"value": Counter.value + 1})
            .returning(Counter.value)
        )
        return (await self.session.exec(stmt)).scalar_one()

    async def log(
        self, *, workspace_id: int, at: datetime, person_id: int | None, platform: str,
        action: str, record: str, before: dict | None = None, after: dict | None = None,
    ) -> None:
        self.session.add(ActivityLog(
            workspace_id=workspace_id, at=at, person_id=person_id, platform=platform,
            action=action, record=record, before=before, after=after,
        ))

    # --- outbox ---------------------------------------------------------------------------
    async def enqueue(
        self, *, workspace_id: int, key: str, platform: str, payload: dict, now: datetime,
        person_id: int | None = None, channel: str | None = None,
    ) -> bool:
        """Owe a message; False when one with this idempotency key is already owed or sent."""
        inserted = await self._insert_ignore(
            OutboxMessage,
            {"workspace_id": workspace_id, "idempotency_key": key, "platform": platform,
             "recipient_person_id": person_id, "channel": channel, "payload": payload,
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now},
            ["idempotency_key"],
        )
        self.enqueued += int(inserted)
        return inserted

    # --- commitments ----------------------------------------------------------------------
    async def commitment(self, workspace_id: int, number: int) -> Commitment | None:
        query = select(Commitment).where(Commitment.workspace_id == workspace_id, Commitment.number == number)
        return (await self.session.exec(query)).scalars().first()

    async def commitment_for(self, workspace_id: int, number: int, person_id: int) -> Commitment | None:
        """C-n as the caller means it: this workspace's when it is theirs, else one they own on
        their other platform (a sync pledge or an action item lives in its partnership's
        workspace: the Done button of its reminder says its number there), else this workspace's."""
        here = await self.commitment(workspace_id, number)
        if here and here.owner_id == person_id:
            return here
        query = select(Commitment).where(Commitment.number == number, Commitment.owner_id == person_id)
        return (await self.session.exec(query.order_by(Commitment.id))).scalars().first() or here

    async def open_commitments(
        self, workspace_id: int | None, *, owner_id: int | None = None, due_before: datetime | None = None,
        account: str | None = None, handoff_ids: Sequence[int] = (), limit: int = 50,
    ) -> list[Commitment]:
        query = select(Commitment).where(Commitment.status == "open")
        if workspace_id is not None:  # None: a person's items on every platform they linked
            query = query.where(Commitment.workspace_id == workspace_id)
        if owner_id is not None:
            query = query.where(Commitment.owner_id == owner_id)
        if due_before is not None:
            query = query.where(Commitment.due_at < due_before)
        if account is not None:
            match = func.lower(Commitment.account).contains(account.lower(), autoescape=True)
            if handoff_ids:
                match = or_(match, Commitment.handoff_id.in_(handoff_ids))
            query = query.where(match)
        query = query.order_by(Commitment.due_at, Commitment.number).limit(limit)
        return list((await self.session.exec(query)).scalars().all())

    # --- handoffs -------------------------------------------------------------------------
    async def handoff(self, workspace_id: int, number: int) -> Handoff | None:
        query = select(Handoff).where(Handoff.workspace_id == workspace_id, Handoff.number == number)
        return (await self.session.exec(query)).scalars().first()

    async def open_handoffs(
        self, workspace_id: int | None, *, stages: Sequence[str], person_id: int | None = None,
        account: str | None = None, limit: int = 50,
    ) -> list[Handoff]:
        query = select(Handoff).where(Handoff.stage.in_(stages), Handoff.declined_at.is_(None))
        if workspace_id is not None:
            query = query.where(Handoff.workspace_id == workspace_id)
        if person_id is not None:
            query = query.where(or_(Handoff.from_id == person_id, Handoff.to_id == person_id))
        if account is not None:
            query = query.where(func.lower(Handoff.account).contains(account.lower(), autoescape=True))
        # soonest due first; handoffs without a date after those with one
        query = query.order_by(Handoff.due_date.is_(None), Handoff.due_date, Handoff.number).limit(limit)
        return list((await self.session.exec(query)).scalars().all())

    async def is_manager_of(self, manager_id: int, *person_ids: int) -> bool:
        query = select(func.count()).select_from(Person).where(
            and_(Person.id.in_(person_ids), Person.manager_id == manager_id)
        )
        return (await self.session.exec(query)).scalar_one() > 0
