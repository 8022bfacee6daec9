"""Store methods for the CRM sync (handlers/crm): what of the activity log goes out, how far it
has gone, the CRM id of each record, people's emails, and the CRM's writes in the outbox."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, or_, select

from storage.models import ActivityLog, CrmCursor, CrmLink, Identity, OutboxMessage, PartnershipMember, Person
from storage.queries.base import Cursor, Page, Queries


class CrmQueries(Queries):
    async def crm_log_after(self, crm: str, kinds: Sequence[str], after: Cursor = None) -> Page:
        """Ids of the log rows about `kinds` of record ("lead" for lead.created, lead.won…) not yet
        turned into CRM writes, oldest first."""
        done = await self._first(select(CrmCursor.last_log_id).where(CrmCursor.crm == crm))
        order = (ActivityLog.id,)
        query = select(*order).where(or_(*(ActivityLog.action.startswith(kind + ".") for kind in kinds)),
                                     ActivityLog.platform != crm)  # what the CRM itself changed is there already
        if done is not None:
            query = query.where(ActivityLog.id > done)
        return await self._page(query, order, after)

    async def log_rows(self, ids: Sequence[int]) -> list[ActivityLog]:
        return await self._all(select(ActivityLog).where(ActivityLog.id.in_(list(ids))).order_by(ActivityLog.id))

    async def advance_crm_cursor(self, crm: str, last_log_id: int, now: datetime) -> None:
        stmt = self._insert(CrmCursor).values(crm=crm, last_log_id=last_log_id, updated_at=now)
        further = case((stmt.excluded.last_log_id > CrmCursor.last_log_id, stmt.excluded.last_log_id),
                       else_=CrmCursor.last_log_id)  # two ticks at once: the cursor never goes back
        await self._session.exec(stmt.on_conflict_do_update(index_elements=["crm"],
                                                            set_={"last_log_id": further, "updated_at": now}))

    async def set_crm_read_until(self, crm: str, read_until: datetime, now: datetime) -> None:
        stmt = self._insert(CrmCursor).values(crm=crm, last_log_id=0, updated_at=now, read_until=read_until)
        await self._session.exec(stmt.on_conflict_do_update(index_elements=["crm"],
                                                            set_={"read_until": read_until}))

    async def set_crm_setup_notice(self, crm: str, notice: str | None, now: datetime) -> None:
        stmt = self._insert(CrmCursor).values(crm=crm, last_log_id=0, updated_at=now, setup_notice=notice)
        await self._session.exec(stmt.on_conflict_do_update(index_elements=["crm"],
                                                            set_={"setup_notice": notice}))

    async def crm_cursor(self, crm: str) -> CrmCursor | None:
        return await self._session.get(CrmCursor, crm)

    async def crm_link(self, workspace_id: int, record: str) -> str | None:
        found = await self._session.get(CrmLink, (workspace_id, record))
        return found.crm_id if found is not None else None

    async def keep_crm_link(self, workspace_id: int, record: str, crm: str, crm_id: str, now: datetime) -> None:
        stmt = self._insert(CrmLink).values(workspace_id=workspace_id, record=record, crm=crm, crm_id=crm_id,
                                            updated_at=now)
        await self._session.exec(stmt.on_conflict_do_update(index_elements=["workspace_id", "record"],
                                                            set_={"crm_id": crm_id, "updated_at": now}))

    async def emails_of(self, person_ids: Sequence[int]) -> dict[int, str]:
        """Each person's email, from any of their identities (a CRM user is found by it)."""
        rows = (await self._session.exec(select(Identity.person_id, Identity.email).where(
            Identity.person_id.in_(list(person_ids)), Identity.email.is_not(None)))).all()
        return {person_id: email for person_id, email in rows}

    async def partnership_people_without_email(self, workspace_id: int) -> list[Person]:
        """Members of the workspace's partnerships the CRM cannot map to a user: no email known."""
        with_email = select(Identity.person_id).where(Identity.email.is_not(None))
        members = select(PartnershipMember.person_id)
        return await self._all(select(Person).where(Person.workspace_id == workspace_id, Person.id.in_(members),
                                                    Person.id.not_in(with_email)).order_by(Person.display_name))

    async def crm_writes(self, crm: str, workspace_id: int, status: str, limit: int) -> list[OutboxMessage]:
        """The CRM's outbox rows of a workspace in one status, newest first."""
        return await self._all(select(OutboxMessage).where(
            OutboxMessage.platform == crm, OutboxMessage.workspace_id == workspace_id, OutboxMessage.status == status)
            .order_by(OutboxMessage.id.desc()).limit(limit))

    async def crm_write_count(self, crm: str, workspace_id: int, status: str) -> int:
        return (await self._session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.platform == crm, OutboxMessage.workspace_id == workspace_id,
            OutboxMessage.status == status))).scalar_one()

    async def numbered(self, model, workspace_id: int, number: int):
        """The record `model` numbered `number` in a workspace (L-3: Lead 3)."""
        return await self._first(select(model).where(model.workspace_id == workspace_id, model.number == number))

    async def crm_records_owed(self, crm: str) -> set[tuple[int, str]]:
        """(workspace id, record) of the CRM writes not yet made: what we said last wins over the
        CRM's older state until it is written."""
        rows = (await self._session.exec(select(OutboxMessage.workspace_id, OutboxMessage.payload).where(
            OutboxMessage.platform == crm, OutboxMessage.status == "pending"))).all()
        return {(workspace_id, payload["crm"]["record"]) for workspace_id, payload in rows}
