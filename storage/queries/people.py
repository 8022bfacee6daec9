"""Store methods for workspaces, people and their platform identities."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, select, update

from storage.models import (
    ActivityLog,
    Ask,
    ChannelContact,
    CharterAgreement,
    CharterRule,
    Commitment,
    ExportToken,
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
    Workspace,
)
from storage.queries.base import Queries


class PeopleQueries(Queries):
    # --- deliveries, workspaces, people ---------------------------------------------------
    async def claim_delivery(self, key: str, now: datetime) -> bool:
        """Record a platform delivery id; False when it was handled before (a retry)."""
        return await self._insert_ignore(ProcessedDelivery, {"key": key, "at": now}, ["key"])

    async def workspace(self, platform: str, external_id: str, now: datetime) -> Workspace:
        query = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
        found = await self._first(query)
        if found:
            return found
        await self._insert_ignore(
            Workspace, {"platform": platform, "external_id": external_id, "created_at": now},
            ["platform", "external_id"],
        )
        return (await self._session.exec(query)).scalars().one()

    async def person_by_identity(self, workspace_id: int, external_id: str) -> Person | None:
        query = (
            select(Person)
            .join(Identity, Identity.person_id == Person.id)
            .where(Identity.workspace_id == workspace_id, Identity.external_id == external_id)
        )
        return await self._first(query)

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
        self._session.add(person)
        await self._session.flush()
        inserted = await self._insert_ignore(
            Identity,
            {"workspace_id": workspace.id, "person_id": person.id,
             "platform": workspace.platform, "external_id": external_id},
            ["workspace_id", "external_id"],
        )
        if not inserted:  # another process created them a moment ago
            await self._session.delete(person)
            return await self.person_by_identity(workspace.id, external_id)
        return person

    async def get_person(self, person_id: int) -> Person | None:
        return await self._session.get(Person, person_id)

    async def people(self, ids: set[int]) -> dict[int, Person]:
        if not ids:
            return {}
        return {p.id: p for p in await self._all(select(Person).where(Person.id.in_(ids)))}

    async def is_manager_of(self, manager_id: int, *person_ids: int) -> bool:
        query = select(func.count()).select_from(Person).where(
            and_(Person.id.in_(person_ids), Person.manager_id == manager_id)
        )
        return (await self._session.exec(query)).scalar_one() > 0

    # --- how to reach them ------------------------------------------------------------------
    async def remember_contact(self, workspace_id: int, external_id: str, contact: dict, now: datetime) -> bool:
        """Save how to reach an identity; True on first contact, which releases what waited for it."""
        query = select(Identity).where(Identity.workspace_id == workspace_id, Identity.external_id == external_id)
        identity = (await self._session.exec(query)).scalars().one()
        first = identity.contact is None
        if identity.contact != contact:
            identity.contact = contact
        if first:
            released = await self._session.exec(
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
        await self._session.exec(stmt)

    async def reachable(self, person_id: int, platform: str, needs_contact: bool) -> bool:
        if not needs_contact:
            return True
        query = select(Identity.contact).where(Identity.person_id == person_id, Identity.platform == platform)
        return any(c is not None for c in (await self._session.exec(query)).scalars().all())

    async def workspace_platforms(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        return dict((await self._session.exec(select(Workspace.id, Workspace.platform)
                                              .where(Workspace.id.in_(ids)))).all())

    async def platforms_of(self, person_id: int) -> list[str]:
        return await self._all(select(Identity.platform).where(Identity.person_id == person_id))

    async def platforms_of_people(self, person_ids: set[int]) -> dict[int, list[str]]:
        """Each person's platforms, in platforms_of's order."""
        query = select(Identity.person_id, Identity.platform).where(Identity.person_id.in_(set(person_ids)))
        platforms: dict[int, list[str]] = {}
        for person_id, platform in (await self._session.exec(query.order_by(Identity.id))).all():
            platforms.setdefault(person_id, []).append(platform)
        return platforms

    # --- linking identities ---------------------------------------------------------------
    async def issue_link_code(self, code: str, person_id: int, expires_at: datetime) -> None:
        await self._session.exec(delete(LinkCode).where(LinkCode.person_id == person_id))  # one live code each
        self._session.add(LinkCode(code=code, person_id=person_id, expires_at=expires_at))

    async def take_link_code(self, code: str) -> LinkCode | None:
        """The code, used up (a code works once)."""
        found = await self._session.get(LinkCode, code)
        if found:
            await self._session.delete(found)
        return found

    async def merge_person(self, absorbed: Person, into: Person) -> None:
        """Everything of `absorbed` becomes `into`'s: identities, records, log, messages."""
        await self._session.flush()  # pending changes to `absorbed` go out before it does
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
        keyed_by_person = (
            (PartnershipMember.person_id, PartnershipMember, PartnershipMember.partnership_id),
            (SyncSeries.person_id, SyncSeries, SyncSeries.partnership_id),
            (SyncAnswer.person_id, SyncAnswer, SyncAnswer.peer_sync_id),
            (CharterAgreement.person_id, CharterAgreement, CharterAgreement.partnership_id),
            (PulseAnswer.person_id, PulseAnswer, PulseAnswer.pulse_id),
            (WinCredit.person_id, WinCredit, WinCredit.win_id),
        )
        for column, model, record in keyed_by_person:
            both = select(record).where(column == into_id).scalar_subquery()
            await self._session.exec(delete(model).where(column == absorbed_id, record.in_(both)))
            moves.append((column, model))
        for column, model in moves:
            await self._session.exec(update(model).where(column == absorbed_id).values({column.key: into_id}))
        await self._session.exec(delete(Person).where(Person.id == absorbed_id))
        self._session.expunge(absorbed)
