"""Owing messages: to a person on the platform where they will see them, or to a bound channel.

Every message is an outbox row keyed `kind:workspace/record:period:recipient`, so owing
the same message twice (a retried command, a second tick) writes it once. Scheduled work is
claimed under a key of the same shape (`JobContext.store.claim(key(...))`): `key` is the one
place that shape is written.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from handlers.kernel.model import NEEDS_FIRST_CONTACT, Reply
from storage.models import PartnershipChannel, Person
from storage.store import Store


def key(kind: str, workspace_id: int, record: str, period: str = "-", recipient: str | int = "-") -> str:
    """The idempotency key of a message or a claim: what (`kind`), about which record of which
    workspace, for which period (a week, a due instant; `-`: once ever), to whom (`-`: nobody
    in particular). E.g. `sync.prompt:3/S-7:2026-W48:12`."""
    return f"{kind}:{workspace_id}/{record}:{period}:{recipient}"


def timezone_of(person: Person, default: str) -> str:
    """Set with `timezone` wins over the platform profile, which wins over the default."""
    return person.timezone or person.platform_timezone or default


def choose_platform(theirs: list[str], preferred: str | None) -> str:
    """`preferred` when the person is on it (or on no platform yet), else the first they are on."""
    return preferred if preferred in theirs or not theirs else theirs[0]


async def _platform_for(store: Store, person: Person, workspace_id: int, prefer: str | None) -> str:
    """`prefer` (else the record's workspace's platform) when the person is on it, else one they are on."""
    if prefer is None:
        prefer = (await store.workspace_platforms({workspace_id})).get(workspace_id)
    return choose_platform(await store.platforms_of(person.id), prefer)


async def reachable(store: Store, person: Person, workspace_id: int, prefer_platform: str | None = None) -> bool:
    """Whether a message owed to `person` can go now, or waits until they first talk to the bot."""
    platform = await _platform_for(store, person, workspace_id, prefer_platform)
    return await store.reachable(person.id, platform, platform in NEEDS_FIRST_CONTACT)


async def to_person(
    store: Store, *, workspace_id: int, person: Person, kind: str, record: str, period: str,
    reply: Reply, now: datetime, prefer_platform: str | None = None,
) -> bool:
    """Owe `person` a message. Sent on `prefer_platform` when they are on it, else on one they
    are on. False when it must wait until they first talk to the bot (it is delivered then)."""
    platform = await _platform_for(store, person, workspace_id, prefer_platform)
    if reply.mentions:  # a direct message notifies its one reader: nobody else to mention
        reply = replace(reply, mentions=())
    await store.enqueue(
        workspace_id=workspace_id, key=key(kind, workspace_id, record, period, person.id),
        platform=platform, person_id=person.id, payload=reply.to_dict(), now=now,
    )
    return await store.reachable(person.id, platform, platform in NEEDS_FIRST_CONTACT)


async def to_channel(
    store: Store, binding: PartnershipChannel, *, kind: str, record_workspace_id: int, record: str,
    period: str, reply: Reply, now: datetime,
) -> None:
    """Owe a bound channel a post (in the channel's own workspace and platform); the people it
    mentions are mentioned by their accounts there."""
    if reply.mentions:
        ids = await store.mention_ids(binding.workspace_id, {m.person_id for m in reply.mentions if m.person_id})
        reply = replace(reply, mentions=tuple(replace(m, user_id=ids.get(m.person_id)) for m in reply.mentions))
    await store.enqueue(
        workspace_id=binding.workspace_id,
        key=key(kind, record_workspace_id, record, period, f"{binding.workspace_id}#{binding.channel}"),
        platform=binding.platform, channel=binding.channel, payload=reply.to_dict(), now=now,
    )
