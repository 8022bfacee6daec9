"""Asks on the clock: nudge, then escalate to the person's manager.

An ask nobody has responded to carries its next step (`cadence_step`: "nudge", then
"escalate") and when it is due (`cadence_at`, counted from when it was asked), so the tick
finds due work with one indexed query. Each step is claimed
(`ask.nudge:ws/Q-n:-:person`, `ask.escalate:ws/Q-n:-:manager`), so it happens once however
many ticks or processes run; the first response clears `cadence_at` and stops it.
"""
from __future__ import annotations

from datetime import timedelta

from handlers.asks.messages import ask_card, response_buttons, tail_text
from handlers.asks.service import link_text
from handlers.kernel.context import JobContext
from handlers.kernel.dates import format_instant
from handlers.kernel.model import Fact, Reply
from handlers.kernel.outbound import key, to_person
from handlers.kernel.registry import Job
from storage.models import Ask


async def due(cad: JobContext, _cursor) -> list[int]:
    return await cad.store.asks_due_for_cadence(cad.now)


async def follow_up(cad: JobContext, ask_id: int) -> bool:
    """Every step of the ask that is due now (after downtime both may be), each once."""
    a = await cad.store.get(Ask, ask_id)
    if a is None or a.first_response_at or a.cadence_at is None or a.cadence_at > cad.now:
        return False  # answered, or another process did it a moment ago
    acted = False
    while a.cadence_at is not None and a.cadence_at <= cad.now:
        step = a.cadence_step
        if step == "nudge":
            a.cadence_at = a.created_at + timedelta(hours=cad.settings.cadence.asks.escalate_after_hours)
            a.cadence_step = "escalate"
            acted |= await _nudge(cad, a)
        else:
            a.cadence_at = a.cadence_step = None
            if step == "escalate":
                acted |= await _escalate(cad, a)
    return acted


async def _nudge(cad: JobContext, a: Ask) -> bool:
    store, ref = cad.store, a.ref
    if not await store.claim(key("ask.nudge", a.workspace_id, ref, "-", a.person_id), cad.now):
        return False
    people = await store.people({a.asker_id, a.person_id})
    asker, person = people[a.asker_id], people[a.person_id]
    link = await link_text(store, a)
    since = format_instant(a.created_at, cad.timezone_of(person))
    await to_person(store, workspace_id=a.workspace_id, person=person, kind="ask.nudge", record=ref, period="-",
                    now=cad.now, reply=Reply(
        f"Reminder: {asker.display_name} is still waiting for your response to {ref} (asked {since}): "
        f"{a.request}{tail_text(a, link)}. Accept, decline or answer it.",
        cards=(ask_card(a, asker, link, f"{ref} is waiting for your response", response_buttons(ref),
                        (Fact("Asked", since),)),),
    ))
    return True


async def _escalate(cad: JobContext, a: Ask) -> bool:
    """Tell the person's manager, when known (and not the asker: they know already); with no
    manager known, the asker learns that nobody was told."""
    store, ref = cad.store, a.ref
    person = await store.get_person(a.person_id)
    if person.manager_id is None:
        return await _cannot_escalate(cad, a, person)
    if person.manager_id == a.asker_id:
        return False
    if not await store.claim(key("ask.escalate", a.workspace_id, ref, "-", person.manager_id), cad.now):
        return False
    manager, asker = await store.get_person(person.manager_id), await store.get_person(a.asker_id)
    link = await link_text(store, a)
    since = format_instant(a.created_at, cad.timezone_of(manager))
    await to_person(store, workspace_id=a.workspace_id, person=manager, kind="ask.escalate", record=ref, period="-",
                    now=cad.now, reply=Reply(
        f"{person.display_name} has not responded to {ref} from {asker.display_name} since {since}: "
        f"{a.request}{tail_text(a, link)}. Worth a word with {person.display_name}.",
        cards=(ask_card(a, asker, link, f"{ref} is waiting on {person.display_name}", (),
                        (Fact("Asked of", person.display_name), Fact("Since", since))),),
    ))
    return True


async def _cannot_escalate(cad: JobContext, a: Ask, person) -> bool:
    store, ref = cad.store, a.ref
    if not await store.claim(key("ask.no_manager", a.workspace_id, ref, "-", a.asker_id), cad.now):
        return False
    asker = await store.get_person(a.asker_id)
    link = await link_text(store, a)
    since = format_instant(a.created_at, cad.timezone_of(asker))
    await to_person(store, workspace_id=a.workspace_id, person=asker, kind="ask.no_manager", record=ref, period="-",
                    now=cad.now, reply=Reply(
        f"{person.display_name} has not responded to {ref} since {since}: {a.request}{tail_text(a, link)}. "
        f"Nobody else was told: Partnerbot knows no manager of {person.display_name} (an admin sets one with "
        f"`admin manager @rep @manager`).",
        cards=(ask_card(a, asker, link, f"{ref} is waiting on {person.display_name}", (),
                        (Fact("Asked of", person.display_name), Fact("Since", since))),),
    ))
    return True


JOBS = [Job("ask follow-ups", find=due, run=follow_up, paged=False)]
