"""People: what other capabilities ask of them. A manager link is set here and only here, by
an admin (`admin manager`, `partnerbot org import`) or by a rep accepting to join a side."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.outbound import to_person
from handlers.kernel.settings import SettingsLike
from storage.models import Person
from storage.store import Store


class Acting(Protocol):
    """A command (Context) or an operator's batch (JobContext): who acts is in its log rows."""

    store: Store
    now: datetime
    settings: SettingsLike

    async def log(self, action: str, record: str, before: dict | None = None, after: dict | None = None, *,
                  workspace_id: int) -> None: ...


async def chain_above(store: Store, person_id: int, links: Mapping[int, int] | None = None) -> list[int]:
    """Who `person_id` reports to, then who that one reports to, and so on: ids in order, ending
    at someone without a manager or just before a repeat. `links` (rep → manager) stand in for
    the links in force, to look at the chart as a change would make it."""
    links = links or {}
    chain: list[int] = []
    current: int | None = person_id
    while True:
        if current in links:
            current = links[current]
        else:
            person = await store.get_person(current)
            current = person.manager_id if person else None
        if current is None or current in chain:
            return chain
        chain.append(current)
        if current == person_id:  # back where it started: a cycle, ending with person_id
            return chain


async def check_manager(store: Store, rep: Person, manager: Person) -> None:
    """Refuses a link that would make someone their own manager, directly or up the chain."""
    if rep.id == manager.id:
        raise UserError(f"{rep.display_name} cannot be their own manager.")
    if rep.id in await chain_above(store, manager.id):
        raise UserError(f"{manager.display_name} reports to {rep.display_name} (directly or through others): "
                        f"{rep.display_name} cannot report to them too.")


async def set_manager(ctx: Acting, rep: Person, manager: Person, *, why: str, caller_id: int | None = None,
                      prefer_platform: str | None = None, checked: bool = False) -> Person | None:
    """Make `manager` the rep's manager; tells the rep, the new and the previous manager (but
    not `caller_id`, whose reply says it). Returns the previous manager (None when they had
    none). Whoever calls this checked the authority (and, `checked`, the whole chart at once:
    a file that swaps two links passes through a state with a cycle)."""
    if not checked:
        await check_manager(ctx.store, rep, manager)
    previous = await ctx.store.get_person(rep.manager_id) if rep.manager_id else None
    if previous is not None and previous.id == manager.id:
        return previous
    rep.manager_id = manager.id
    await ctx.log("person.manager_set", f"person:{rep.id}",
                  before={"manager_id": previous.id if previous else None},
                  after={"manager_id": manager.id, "why": why}, workspace_id=rep.workspace_id)
    was = f" (before: {previous.display_name})" if previous else ""
    told = (
        (rep, f"Your manager in Partnerbot is now {manager.display_name}{was}: {why}. They see your scorecard "
              f"and list, can give you commitments and hear about your stuck handoffs."),
        (manager, f"You are now {rep.display_name}'s manager in Partnerbot{was}: {why}."),
    )
    if previous is not None:
        told += ((previous, f"You are no longer {rep.display_name}'s manager in Partnerbot: "
                            f"{manager.display_name} is, {why}."),)
    period = f"{ctx.now.isoformat()}>{manager.id}"  # every change is news, even back to an earlier manager
    for person, text in told:
        if person.id == caller_id:
            continue
        await to_person(ctx.store, workspace_id=rep.workspace_id, person=person, kind="person.manager",
                        record=f"person:{rep.id}", period=period, reply=Reply(text), now=ctx.now,
                        prefer_platform=prefer_platform)
    return previous
