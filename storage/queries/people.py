"""Store methods for workspaces, people and their platform identities."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Table,
    and_,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlmodel import SQLModel

from storage import hot
from storage.fold import fold_statements, keeper_fields, keyed_with, person_columns, same_record
from storage.models import (
    ActivityLog,
    Ask,
    ChannelContact,
    Commitment,
    Handoff,
    Identity,
    Lead,
    LinkAttempt,
    LinkCode,
    LinkRequest,
    OutboxMessage,
    Person,
    PersonLink,
    ProcessedDelivery,
    Workspace,
)
from storage.queries.base import Cursor, Page, Queries
from storage.types import UTCDateTime


class PeopleQueries(Queries):
    # --- deliveries, workspaces, people ---------------------------------------------------
    async def claim_delivery(self, key: str, now: datetime, *, caller: tuple[int, str] | None = None) -> bool:
        """Record a platform delivery id; False when it was handled before (a retry).

        With `caller` (a workspace id and a platform user id, looked up next by person()) on
        PostgreSQL, in a transaction that has not begun, the claim is made later, in the same
        transaction as the command's writes: with the one write of a command that makes only one
        (Store.insert_numbered), else just before COMMIT (pg_transaction.py); a retry then raises
        AlreadyHandled there. Until then the caller is read without beginning the transaction, and
        this answers True. Why: a `commit` is then two round trips (its caller, then its claim,
        commitment and log in one statement) instead of four (BEGIN, claim and caller, its write,
        COMMIT), in a `serve` that is CPU-bound under load (issue 25)."""
        driver = await self._hot_driver()
        if caller is not None and isinstance(driver, hot.AsyncpgDriver) and not driver.in_transaction:
            workspace_id, external_id = caller
            found = await driver.row(hot.PERSON_BY_ONE_ID, {"workspace_id": workspace_id, "external_id": external_id},
                                     begin=False)
            self._read_ahead = (caller, found)
            driver.claim = {"key": key, "at": now}
            return True
        return await self._hot_row(hot.claim_delivery(self._dialect_name), {"key": key, "at": now}) \
            is not None

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
        """The person with this platform id: their main one, or (Teams) the 29:… one mentions carry."""
        query = (
            select(Person)
            .join(Identity, Identity.person_id == Person.id)
            .where(Identity.workspace_id == workspace_id,
                   or_(Identity.external_id == external_id, Identity.channel_account_id == external_id))
        )
        return await self._first(query)

    async def person(
        self, workspace: Workspace, external_id: str, name: str | None, now: datetime, *,
        other_id: str | None = None, email: str | None = None,
    ) -> Person:
        """The person behind a platform user id, created on first sight. `other_id` is the same
        account's other id where the platform has two (Teams: the 29:… user id besides the AAD
        object id): whichever id they were met by, they are one person; two persons met by one
        id each (a mention before the fix, a people picker) become one here, with a log row."""
        # what claim_delivery read ahead is for this, the transaction's first look-up of a person
        ahead, self._read_ahead = self._read_ahead, None
        if not other_id:  # one id (Slack, the console, a Teams mention): no twin to look for
            if ahead is not None and ahead[0] == (workspace.id, external_id):
                return await self._person_from_row(workspace, external_id, name, now, email, ahead[1])
            return await self._person_by_one_id(workspace, external_id, name, now, email)
        ids = {external_id, other_id}
        found_rows = (await self._session.exec(
            select(Identity, Person).join(Person, Person.id == Identity.person_id)
            .where(Identity.workspace_id == workspace.id,
                   or_(Identity.external_id.in_(ids), Identity.channel_account_id.in_(ids)))
            .order_by(Identity.id))).all()
        if not found_rows:
            return await self._new_person(workspace, external_id, name, now, other_id=other_id, email=email)
        identities, people = [row[0] for row in found_rows], {row[1].id: row[1] for row in found_rows}
        # the one the others fold into: keyed by the main id (Teams: the AAD object id) when one is
        keeper = max(identities, key=lambda i: (
            bool(other_id) and i.external_id == external_id,  # the caller, as the platform names them
            i.channel_account_id not in (None, i.external_id),  # an identity that knows both ids
            i.external_id == external_id, -i.id))
        for twin in {i.person_id: i for i in identities if i.person_id != keeper.person_id}.values():
            await self._fold_twin(workspace, twin, keeper, now)
        learnt: dict[str, str] = {}
        if other_id and keeper.external_id == other_id:  # met by their 29:… id; now we know their AAD id
            learnt["external_id"] = external_id
        if other_id and keeper.channel_account_id != other_id:
            learnt["channel_account_id"] = other_id
        if email and keeper.email != email:
            learnt["email"] = email
        if learnt:
            for field, value in learnt.items():
                setattr(keeper, field, value)
            await self._session.flush()  # the ids as they are now, for what finds this identity next
        found = people[keeper.person_id]
        if name and found.display_name != name and found.display_name in ids | {keeper.external_id}:
            found.display_name = name  # learnt a real name for someone known by id only
        return found

    async def _person_by_one_id(self, workspace: Workspace, external_id: str, name: str | None, now: datetime,
                                email: str | None) -> Person:
        """person() for a caller or mention with one id: one query where they are known (the
        path of every Slack command)."""
        found = await self._hot_row(hot.PERSON_BY_ONE_ID, {"workspace_id": workspace.id, "external_id": external_id})
        return await self._person_from_row(workspace, external_id, name, now, email, found)

    async def _person_from_row(self, workspace: Workspace, external_id: str, name: str | None, now: datetime,
                               email: str | None, found: tuple | None) -> Person:
        """_person_by_one_id's answer from PERSON_BY_ONE_ID's row (None: not met yet)."""
        if found is None:
            return await self._new_person(workspace, external_id, name, now, other_id=None, email=email)
        *columns, identity_id, known_email = found
        person = self._as_loaded(Person, columns)
        if email and known_email != email:
            await self._session.exec(update(Identity).where(Identity.id == identity_id).values(email=email))
        if name and person.display_name != name and person.display_name == external_id:
            person.display_name = name  # learnt a real name for someone known by id only
        return person

    async def _new_person(self, workspace: Workspace, external_id: str, name: str | None, now: datetime, *,
                          other_id: str | None, email: str | None) -> Person:
        person = Person(workspace_id=workspace.id, display_name=name or external_id, created_at=now)
        self._session.add(person)
        await self._session.flush()
        inserted = await self._insert_ignore(
            Identity,
            {"workspace_id": workspace.id, "person_id": person.id, "platform": workspace.platform,
             "external_id": external_id, "channel_account_id": other_id or None, "email": email or None},
            ["workspace_id", "external_id"],
        )
        if not inserted:  # another process created them a moment ago
            await self._session.delete(person)
            return await self.person_by_identity(workspace.id, external_id)
        return person

    async def _fold_twin(self, workspace: Workspace, twin: Identity, keeper: Identity, now: datetime) -> None:
        """`twin`'s person is `keeper`'s person met by their other id: fold it in, for good (not a
        `link`, which `unlink` can split: this was never two people), and log what was folded."""
        await self._session.flush()
        absorbed = await self._session.get(Person, twin.person_id)
        into = await self._session.get(Person, keeper.person_id)
        ids = {twin.external_id, keeper.external_id, twin.channel_account_id, keeper.channel_account_id} - {None}
        for field, value in keeper_fields(into.model_dump(), absorbed.model_dump(), ids).items():
            setattr(into, field, value)
        teams_user_id = twin.channel_account_id or twin.external_id  # (a twin keyed by 29:… has it there)
        email, contact = twin.email, twin.contact
        gone = {"person_id": absorbed.id, "display_name": absorbed.display_name, "external_id": twin.external_id}
        await self._session.delete(twin)
        await self._session.flush()  # the twin's ids are free before the keeper takes them
        keeper.channel_account_id = keeper.channel_account_id or teams_user_id
        keeper.email, keeper.contact = keeper.email or email, keeper.contact or contact
        self._session.expunge(absorbed)
        for statement in fold_statements(_person_columns(), Person.__table__, absorbed.id, into.id):
            await self._session.exec(statement)
        await self._session.refresh(into)
        # what waited for either of them goes out now if the keeper can be reached
        if keeper.contact is not None:
            released = await self._session.exec(
                update(OutboxMessage).where(OutboxMessage.recipient_person_id == into.id,
                                            OutboxMessage.platform == keeper.platform,
                                            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at > now)
                .values(next_attempt_at=now))
            self.enqueued += released.rowcount
        self._session.add(ActivityLog(workspace_id=workspace.id, at=now, person_id=into.id, platform=workspace.platform,
                                      action="person.merged", record=f"person:{into.id}", before=gone,
                                      after={"person_id": into.id, "external_id": keeper.external_id}))

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

    async def mention_ids(self, workspace_id: int, person_ids: set[int]) -> dict[int, str]:
        """The account each person is mentioned by in one workspace: Teams' 29:… id when known,
        else the platform id (Slack's user id, Teams' AAD object id)."""
        if not person_ids:
            return {}
        query = select(Identity.person_id, Identity.external_id, Identity.channel_account_id).where(
            Identity.workspace_id == workspace_id, Identity.person_id.in_(set(person_ids))).order_by(Identity.id)
        found: dict[int, str] = {}
        for person_id, external_id, channel_account_id in (await self._session.exec(query)).all():
            found.setdefault(person_id, channel_account_id or external_id)
        return found

    # --- linking identities ---------------------------------------------------------------
    async def issue_link_code(self, code: str, person_id: int, expires_at: datetime) -> None:
        await self._session.exec(delete(LinkCode).where(LinkCode.person_id == person_id))  # one live code each
        self._session.add(LinkCode(code=code, person_id=person_id, expires_at=expires_at))

    async def link_code(self, code: str) -> LinkCode | None:
        return await self._session.get(LinkCode, code)

    async def take_link_code(self, code: str) -> bool:
        """Use the code up (a code works once); False when another process used it a moment ago."""
        result = await self._session.exec(delete(LinkCode).where(LinkCode.code == code))
        return result.rowcount == 1

    async def wrong_link_codes_since(self, person_id: int, since: datetime) -> list[datetime]:
        """When the person typed a wrong link code after `since`, oldest first."""
        return await self._all(select(LinkAttempt.at).where(LinkAttempt.person_id == person_id, LinkAttempt.at > since)
                               .order_by(LinkAttempt.at))

    async def note_wrong_link_code(self, person_id: int, at: datetime) -> None:
        self._session.add(LinkAttempt(person_id=person_id, at=at))

    async def add_link_request(self, request: LinkRequest) -> LinkRequest:
        self._session.add(request)
        await self._session.flush()
        return request

    async def link_request(self, request_id: int) -> LinkRequest | None:
        return await self._session.get(LinkRequest, request_id)

    async def link_requests_to(self, issuer_id: int, now: datetime) -> list[LinkRequest]:
        """The requests still waiting for `issuer_id`'s answer, oldest first."""
        return await self._all(select(LinkRequest).where(LinkRequest.issuer_id == issuer_id,
                                                         LinkRequest.expires_at > now).order_by(LinkRequest.id))

    async def take_link_request(self, request: LinkRequest) -> bool:
        """Answer the request: it is deleted; False when another process answered it a moment ago."""
        result = await self._session.exec(delete(LinkRequest).where(LinkRequest.id == request.id))
        self._session.expunge(request)
        return result.rowcount == 1

    async def last_person_link(self, keeper_id: int) -> PersonLink | None:
        """The latest link that joined someone into `keeper_id` (unlink undoes the latest first)."""
        return await self._first(select(PersonLink).where(PersonLink.keeper_id == keeper_id)
                                 .order_by(PersonLink.id.desc()))

    async def merge_person(self, absorbed: Person, into: Person, now: datetime) -> PersonLink:
        """Everything of `absorbed` becomes `into`'s: identities, records, log, messages. What
        moved is recorded (the returned PersonLink), so that unlink_person can split them again."""
        await self._session.flush()  # pending changes to `absorbed` go out before it does
        absorbed_id, into_id = absorbed.id, into.id
        link = PersonLink(
            keeper_id=into_id, linked_at=now, absorbed_id=absorbed_id, workspace_id=absorbed.workspace_id,
            display_name=absorbed.display_name, timezone=absorbed.timezone,
            platform_timezone=absorbed.platform_timezone, manager_id=absorbed.manager_id,
            created_at=absorbed.created_at, keeper_timezone=into.timezone,
            keeper_platform_timezone=into.platform_timezone, moved={}, deleted={},
        )
        into.timezone = into.timezone or absorbed.timezone
        into.platform_timezone = into.platform_timezone or absorbed.platform_timezone
        if into.manager_id == absorbed_id:  # nobody manages themselves
            into.manager_id = absorbed.manager_id if absorbed.manager_id != into_id else None
        await self._session.flush()
        for table, column in _person_columns():
            name = f"{table.name}.{column.name}"
            # rows keyed by (record, person), as a member of a partnership: where both had one,
            # `into`'s row stands and `absorbed`'s goes (kept in the link, as it was)
            for others in keyed_with(table, column):
                both = same_record(column, others, absorbed_id, into_id)
                gone = (await self._session.exec(select(table).where(both))).mappings().all()
                if gone:
                    link.deleted.setdefault(name, []).extend(_to_json(table, row) for row in gone)
                    await self._session.exec(delete(table).where(both))
            if table.name not in _MOVED_BY_PLATFORM:
                keys = _key_of(table, column)
                moved = (await self._session.exec(select(*keys).where(column == absorbed_id))).all() if keys else []
                if moved:
                    link.moved[name] = {"key": [k.name for k in keys], "rows": [list(row) for row in moved]}
            await self._session.exec(update(table).where(column == absorbed_id).values({column.name: into_id}))
        await self._session.exec(delete(Person).where(Person.id == absorbed_id))
        self._session.expunge(absorbed)
        self._session.add(link)
        await self._session.flush()
        return link

    async def unlink_person(self, link: PersonLink, keeper: Person) -> tuple[Person, list[str]]:
        """Split what `link` joined: the absorbed person again (a new id), with the identities
        and rows that moved to `keeper` and still are theirs, and the rows deleted because both had
        one. Since the link: the log rows and messages of the split-off platforms, and the
        commitments, handoffs, leads and asks created from them, go with it; the rest stays.
        Returns the person split off and their platforms."""
        await self._session.flush()
        manager = link.manager_id if link.manager_id and await self.get_person(link.manager_id) else None
        person = Person(workspace_id=link.workspace_id, display_name=link.display_name, timezone=link.timezone,
                        platform_timezone=link.platform_timezone, manager_id=manager, created_at=link.created_at)
        self._session.add(person)
        await self._session.flush()
        tables = SQLModel.metadata.tables
        for name, moved in link.moved.items():
            table_name, column_name = name.split(".")
            table = tables.get(table_name)
            if table is None or column_name not in table.c or not all(k in table.c for k in moved["key"]):
                continue  # a table or column gone since (a later migration)
            column, keys = table.c[column_name], [table.c[k] for k in moved["key"]]
            for at in range(0, len(moved["rows"]), _CHUNK):
                chunk = moved["rows"][at:at + _CHUNK]
                these = keys[0].in_([row[0] for row in chunk]) if len(keys) == 1 else \
                    tuple_(*keys).in_([tuple(row) for row in chunk])
                await self._session.exec(update(table).where(column == keeper.id, these)
                                         .values({column.name: person.id}))
        for name, rows in link.deleted.items():
            table_name, column_name = name.split(".")
            table = tables.get(table_name)
            if table is None or column_name not in table.c:
                continue
            for row in rows:
                values = _from_json(table, row) | {column_name: person.id}
                if _surrogate_id(table):
                    values.pop("id", None)  # a new one: SQLite may have given the old one away since
                await self._session.exec(self._insert(table).values(**values).on_conflict_do_nothing())
        platforms = await self.platforms_of(person.id)
        # since the link: what was done from the split-off platforms goes with them
        await self._session.exec(update(ActivityLog).where(ActivityLog.person_id == keeper.id,
                                                           ActivityLog.platform.in_(platforms))
                                 .values(person_id=person.id))
        await self._session.exec(update(OutboxMessage).where(OutboxMessage.recipient_person_id == keeper.id,
                                                             OutboxMessage.platform.in_(platforms))
                                 .values(recipient_person_id=person.id))
        created = (await self._session.exec(
            select(ActivityLog.workspace_id, ActivityLog.record).where(
                ActivityLog.person_id == person.id, ActivityLog.at >= link.linked_at,
                ActivityLog.action.in_([f"{model.__tablename__}.created" for model in _CREATED_GO_ALONG]))
        )).all()
        for model in _CREATED_GO_ALONG:
            numbers = [(workspace_id, int(record[len(model.KIND) + 1:])) for workspace_id, record in created
                       if record.startswith(f"{model.KIND}-") and record[len(model.KIND) + 1:].isdigit()]
            if not numbers:
                continue
            table = model.__table__
            these = tuple_(table.c.workspace_id, table.c.number).in_(numbers)
            for column in (c for t, c in _person_columns() if t is table):
                await self._session.exec(update(table).where(column == keeper.id, these)
                                         .values({column.name: person.id}))
        # a blank timezone the keeper took over from the split-off person is theirs again
        if link.keeper_timezone is None and keeper.timezone == link.timezone:
            keeper.timezone = None
        if link.keeper_platform_timezone is None and keeper.platform_timezone == link.platform_timezone:
            keeper.platform_timezone = None
        await self._session.delete(link)
        await self._session.flush()
        return person, platforms

    # --- retention: what the tick forgets -----------------------------------------------------
    async def old_deliveries(self, before: datetime, after: Cursor = None) -> Page:
        order = (ProcessedDelivery.at, ProcessedDelivery.key)
        return await self._page(select(*order).where(ProcessedDelivery.at < before), order, after)

    async def forget_deliveries(self, keys: list[str], before: datetime) -> int:
        result = await self._session.exec(delete(ProcessedDelivery).where(ProcessedDelivery.key.in_(keys),
                                                                          ProcessedDelivery.at < before))
        return result.rowcount

    async def expired_link_codes(self, now: datetime, after: Cursor = None) -> Page:
        order = (LinkCode.code,)
        return await self._page(select(*order).where(LinkCode.expires_at <= now), order, after)

    async def forget_link_codes(self, codes: list[str], now: datetime) -> int:
        result = await self._session.exec(delete(LinkCode).where(LinkCode.code.in_(codes), LinkCode.expires_at <= now))
        return result.rowcount

    async def old_link_attempts(self, before: datetime, after: Cursor = None) -> Page:
        order = (LinkAttempt.id,)
        return await self._page(select(*order).where(LinkAttempt.at <= before), order, after)

    async def forget_link_attempts(self, ids: list[int], before: datetime) -> int:
        result = await self._session.exec(delete(LinkAttempt).where(LinkAttempt.id.in_(ids), LinkAttempt.at <= before))
        return result.rowcount

    async def expired_link_requests(self, now: datetime, after: Cursor = None) -> Page:
        order = (LinkRequest.id,)
        return await self._page(select(*order).where(LinkRequest.expires_at <= now), order, after)

    async def take_expired_link_request(self, request_id: int, now: datetime) -> LinkRequest | None:
        """The lapsed request, deleted; None when it was answered or taken a moment ago."""
        found = await self._session.get(LinkRequest, request_id)
        if found is None or found.expires_at > now:
            return None
        result = await self._session.exec(delete(LinkRequest).where(LinkRequest.id == request_id))
        if result.rowcount != 1:
            return None
        self._session.expunge(found)
        return found


# --- what a merge moves, from the schema: every column holding a person's id ----------------------
_CHUNK = 500  # keys per IN (…): far below any database's limit on bound parameters
# moved back by platform, not by row: they say which platform they came from (and are the biggest)
_MOVED_BY_PLATFORM = {ActivityLog.__tablename__, OutboxMessage.__tablename__, LinkAttempt.__tablename__}
# records created from the split-off platform since the link go with it (the `list` of each platform)
_CREATED_GO_ALONG = (Commitment, Handoff, Lead, Ask)


@lru_cache(maxsize=1)
def _person_columns() -> tuple[tuple[Table, Column], ...]:
    """Every (table, column) with a foreign key to person.id, from the models."""
    return person_columns(SQLModel.metadata)


def _key_of(table: Table, column: Column) -> list[Column]:
    """What identifies a row of `table` once `column` changed: its primary key, less `column`."""
    return [c for c in table.primary_key.columns if c is not column]


def _surrogate_id(table: Table) -> bool:
    return [c.name for c in table.primary_key.columns] == ["id"]


def _to_json(table: Table, row) -> dict:
    return {c.name: _json_value(row[c.name]) for c in table.columns}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _from_json(table: Table, row: dict) -> dict:
    values = {}
    for name, value in row.items():
        if name not in table.c:
            continue
        kind = table.c[name].type
        if value is not None and isinstance(kind, (UTCDateTime, DateTime)):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(kind, Date):
            value = date.fromisoformat(value)
        values[name] = value
    return values
