"""The outbox: every message Partnerbot owes someone, written in the transaction of the change
that owes it, then leased, sent and marked by the sender (bot/outbox.py).

Rows are leased (`lease_until`), so two processes never send the same row at once; a process
killed mid-send leaves its lease to expire and another sender takes over.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, or_, select, update
from sqlalchemy.orm import aliased

from storage.models import ChannelContact, Identity, OutboxMessage, Workspace
from storage.queries.base import Queries


def message_row(*, workspace_id: int, key: str, platform: str, payload: dict, now: datetime,
                person_id: int | None = None, channel: str | None = None) -> dict:
    """The columns of a message owed now, to a person or into a channel: every writer of the
    outbox builds its rows here (one at a time, or a page of prompts at once)."""
    return {"workspace_id": workspace_id, "idempotency_key": key, "platform": platform,
            "recipient_person_id": person_id, "channel": channel, "payload": payload,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}


def resume_parked(*, platform: str, reasons: list[str], now: datetime):
    """The statement that makes due again the messages of `platform` parked (failed) for one of
    `reasons` (the start of their last_error): a workspace reinstalled, say."""
    return update(OutboxMessage).where(
        OutboxMessage.platform == platform, OutboxMessage.status == "failed",
        or_(*(OutboxMessage.last_error.startswith(reason, autoescape=True) for reason in reasons)),
    ).values(status="pending", next_attempt_at=now, lease_until=None)


@dataclass(frozen=True)
class Leased:
    """A message leased for sending, with what it takes to address it on its platform."""

    id: int
    platform: str
    workspace: str  # the platform's workspace id
    channel: str | None
    user: str | None  # the recipient's platform user id; None when they have no identity there
    contact: dict | None  # how to reach the recipient or the channel (a Teams conversation reference)
    payload: dict
    attempts: int


class OutboxQueries(Queries):
    enqueued: int  # messages written to the outbox in this transaction (Store)

    # --- owing ------------------------------------------------------------------------------------
    async def enqueue(self, *, workspace_id: int, key: str, platform: str, payload: dict, now: datetime,
                      person_id: int | None = None, channel: str | None = None) -> bool:
        """Owe a message; False when one with this idempotency key is already owed or sent."""
        row = message_row(workspace_id=workspace_id, key=key, platform=platform, payload=payload, now=now,
                          person_id=person_id, channel=channel)
        inserted = await self._insert_ignore(OutboxMessage, row, ["idempotency_key"])
        self.enqueued += int(inserted)
        return inserted

    async def enqueue_all(self, rows: list[dict]) -> None:
        """Owe many messages at once (message_row's rows); one already owed is left as it is."""
        if rows:
            insert = self._insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
            await self._session.exec(insert, params=rows)

    # --- sending ----------------------------------------------------------------------------------
    async def lease_due(self, *, platforms: list[str], now: datetime, after: int, limit: int, lease: timedelta,
                        person_ids: set[int] | None = None,
                        channels: set[tuple[int, str]] | None = None,
                        except_workspaces: Iterable[tuple[str, str]] = ()) -> list[Leased]:
        """The next `limit` messages due on `platforms` after id `after`, in id order, leased until
        now + `lease`. Rows another sender holds locked are skipped (FOR UPDATE SKIP LOCKED). With
        `person_ids` or `channels`, only messages to those people or (workspace id, channel)s.
        None in `except_workspaces`, (platform, the platform's workspace id) pairs: the ones the
        sender must not send to now (throttled, or sitting out its pass)."""
        # A direct message goes through its recipient's own workspace (their Slack workspace's
        # token, their tenant), which is not the record's when two companies share a partnership;
        # a channel post through the channel's.
        home = aliased(Workspace)
        address_workspace = func.coalesce(home.external_id, Workspace.external_id)
        query = (
            select(OutboxMessage, address_workspace, Identity.external_id, Identity.contact, ChannelContact.contact)
            .join(Workspace, Workspace.id == OutboxMessage.workspace_id)
            .outerjoin(Identity, (Identity.person_id == OutboxMessage.recipient_person_id)
                       & (Identity.platform == OutboxMessage.platform))
            .outerjoin(home, home.id == Identity.workspace_id)
            .outerjoin(ChannelContact, (ChannelContact.workspace_id == OutboxMessage.workspace_id)
                       & (ChannelContact.channel == OutboxMessage.channel))
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.platform.in_(platforms),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                OutboxMessage.id > after,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(of=OutboxMessage, skip_locked=True)
        )
        if person_ids is not None or channels is not None:
            wanted = [OutboxMessage.recipient_person_id.in_(person_ids or ())]
            wanted += [and_(OutboxMessage.workspace_id == workspace_id, OutboxMessage.channel == channel)
                       for workspace_id, channel in sorted(channels or ())]
            query = query.where(or_(*wanted))
        if excluded := [and_(OutboxMessage.platform == platform, address_workspace == paused)
                        for platform, paused in except_workspaces]:
            query = query.where(not_(or_(*excluded)))
        rows = (await self._session.exec(query)).all()
        if not rows:
            return []
        await self._session.exec(update(OutboxMessage).where(OutboxMessage.id.in_([row[0].id for row in rows]))
                                 .values(lease_until=now + lease))
        return [Leased(m.id, m.platform, workspace, m.channel, None if m.channel else user,
                       channel_contact if m.channel else contact, m.payload, m.attempts)
                for m, workspace, user, contact, channel_contact in rows]

    # --- a channel read like a channel (the console) ----------------------------------------------
    async def channel_unread_from(self, *, platform: str, workspace_id: int, channel: str) -> int:
        """Where a reader joining `channel` starts: before its first post nobody has seen yet,
        else after its last post."""
        in_channel = (OutboxMessage.platform == platform, OutboxMessage.workspace_id == workspace_id,
                      OutboxMessage.channel == channel)
        first_unread = (await self._session.exec(
            select(func.min(OutboxMessage.id)).where(*in_channel, OutboxMessage.status == "pending"))).one()[0]
        if first_unread is not None:
            return first_unread - 1
        last = (await self._session.exec(select(func.max(OutboxMessage.id)).where(*in_channel))).one()[0]
        return last or 0

    async def channel_posts(self, *, platform: str, workspace_id: int, channel: str, after: int, now: datetime,
                            limit: int = 50) -> list[tuple[int, dict]]:
        """The posts into `channel` after id `after` that are due, (id, payload) in id order, sent
        or not: every reader of the channel sees each post (no lease: nothing is taken from
        another reader). The ones nobody had seen are marked sent."""
        rows = (await self._session.exec(
            select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.status)
            .where(OutboxMessage.platform == platform, OutboxMessage.workspace_id == workspace_id,
                   OutboxMessage.channel == channel, OutboxMessage.id > after, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(limit))).all()
        unseen = [row.id for row in rows if row.status == "pending"]
        if unseen:
            await self._session.exec(update(OutboxMessage).where(
                OutboxMessage.id.in_(unseen), OutboxMessage.status == "pending").values(
                status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, lease_until=None))
        return [(row.id, row.payload) for row in rows]

    async def mark_sent(self, message_ids: Iterable[int], now: datetime) -> None:
        await self._session.exec(update(OutboxMessage).where(OutboxMessage.id.in_(list(message_ids))).values(
            status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, lease_until=None))

    async def release(self, message_ids: list[int]) -> None:
        """Hand leased messages back untouched."""
        await self._session.exec(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
                                 .values(lease_until=None))

    async def update_message(self, message_id: int, **values) -> None:
        await self._session.exec(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))

    async def park_until_contact(self, message_id: int, now: datetime, wait: timedelta) -> bool:
        """Let a message wait for its recipient's first contact (Store.remember_contact releases
        it then), retried after `wait` as a safety net. True when that contact has come already:
        then it is due now. The row lock orders this with remember_contact's release of the
        row: either it released before (the contact is seen here) or it waits and releases after."""
        message = await self._session.get(OutboxMessage, message_id, with_for_update=True)
        arrived = await self.reachable(message.recipient_person_id, message.platform, needs_contact=True)
        message.next_attempt_at = now if arrived else now + wait
        message.lease_until = None
        return arrived
