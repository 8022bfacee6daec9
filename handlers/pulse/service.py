"""The health pulse: every member of a partnership rates the five "shared" (risk, resources,
rewards, vision, values) from 1 to 5. A pulse opens monthly (jobs.py) or at once with `pulse`,
and closes after `close_after_days` or as soon as every member asked has answered; then both
managers and every bound channel get the averages per side, with each dimension whose sides
are 2 points or more apart flagged (results.py); a side's averages and comments only when at
least `cadence.pulse.min_answers` of it answered (results.withheld).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from handlers.kernel.context import JobContext
from handlers.kernel.dates import format_instant
from handlers.kernel.model import Button, Card, Fact, Mention, Reply
from handlers.kernel.outbound import key, to_channel, to_person
from handlers.pulse.results import (  # what reports and verbs read of a pulse, too
    COMMENT,
    DIMENSIONS,
    SCALE,
    SIDES,
    build_results,
    imbalances,
    period_label,
    side_summary,
    withheld,
)
from storage.models import Partnership, Person, Pulse, PulseAnswer
from storage.store import Store

__all__ = ["COMMENT", "DIMENSIONS", "SCALE", "SIDES", "close", "imbalances", "instant_period", "managers_by_side",
           "open_pulse", "period_label", "prompt_members", "side_summary", "withheld"]

def instant_period(now: datetime) -> str:
    """The period of a pulse asked for with `pulse`: its opening instant, in UTC
    ('20261210T101500Z'), which never collides with a month's '2026-12'."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


async def managers_by_side(store: Store, p: Partnership) -> dict[str, Person]:
    """Each side's manager; side A's is whoever created the partnership when none is a member."""
    members = await store.members(p.id)
    ids = {m.side: m.person_id for m in members if m.role == "manager"}
    people = await store.people(set(ids.values()) | {p.created_by_id})
    by_side = {side: people[pid] for side, pid in ids.items()}
    by_side.setdefault("a", people[p.created_by_id])
    return by_side


# --- opening and prompting ----------------------------------------------------------------------
async def open_pulse(cad: JobContext, p: Partnership, period: str, opener: Person | None = None,
                     platform: str = "scheduler") -> Pulse | None:
    """A new pulse of `p` with a part for every member as of now; None when this period's
    was opened before (by another process). The caller holds store.lock_partnership."""
    store = cad.store
    if not await store.claim(key("pulse.open", p.workspace_id, p.ref, period), cad.now):
        return None
    pulse = Pulse(workspace_id=p.workspace_id, partnership_id=p.id, period=period, opened_at=cad.now,
                  closes_at=cad.now + timedelta(days=cad.settings.cadence.pulse.close_after_days))
    await store.add(pulse)
    members = await store.members(p.id)
    await store.add(*(PulseAnswer(pulse_id=pulse.id, person_id=m.person_id, side=m.side) for m in members))
    await store.log(workspace_id=p.workspace_id, at=cad.now, person_id=opener.id if opener else None,
                    platform=platform, action="pulse.opened", record=p.ref,
                    after={"period": period, "closes_at": pulse.closes_at.isoformat(), "members": len(members)})
    return pulse


async def prompt_members(cad: JobContext, pulse: Pulse, p: Partnership, opener: Person | None = None) -> list[Person]:
    """Every member asked in the pulse gets the prompt with its Answer button, once (the
    outbox key is per pulse and person), except `opener`, who has the form already. Returns
    those who must talk to the bot first for it to reach them."""
    store = cad.store
    answers = await store.pulse_answers(pulse.id)
    people = await store.people({a.person_id for a in answers})
    waiting = []
    for a in answers:
        person = people[a.person_id]
        if opener is not None and person.id == opener.id:
            continue
        closes = format_instant(pulse.closes_at, cad.timezone_of(person))
        if not await to_person(store, workspace_id=pulse.workspace_id, person=person, kind="pulse.prompt",
                               record=p.ref, period=pulse.period, now=cad.now,
                               reply=prompt_reply(p, closes, opener)):
            waiting.append(person)
    return waiting


def prompt_reply(p: Partnership, closes: str, opener: Person | None) -> Reply:
    who = f"{opener.display_name} asked for a health pulse" if opener else "Time for the monthly health pulse"
    text = (f"{who} of {p.ref} {p.name}: rate shared risk, shared resources, shared rewards, shared vision "
            f"and shared values from {SCALE}, and add a comment if you like. Open until {closes}. "
            f"Click Answer or type `pulse answer {p.ref}`.")
    return Reply(text, cards=(Card(
        title=f"Health pulse · {p.ref} {p.name}",
        text=f"Five ratings from {SCALE}. Results go out per side, never per person.",
        facts=(Fact("Open until", closes),),
        buttons=(Button("Answer", f"pulse answer {p.ref}", "primary"),)),))


# --- closing --------------------------------------------------------------------------------------
async def close(cad: JobContext, pulse: Pulse, p: Partnership) -> bool:
    """Close the pulse and send its results, once: to both managers and every bound channel."""
    store = cad.store
    if pulse.closed_at or not await store.claim(key("pulse.results", pulse.workspace_id, p.ref, pulse.period),
                                                cad.now):
        return False
    pulse.closed_at = cad.now
    answers = await store.pulse_answers(pulse.id)
    managers = await managers_by_side(store, p)
    min_answers = cad.settings.cadence.pulse.min_answers
    results = build_results(pulse, p, answers, managers, cad.timezone_of(managers["a"]), min_answers)
    for manager in {m.id: m for m in managers.values()}.values():
        await to_person(store, workspace_id=pulse.workspace_id, person=manager, kind="pulse.results",
                        record=p.ref, period=pulse.period, reply=results, now=cad.now)
    # the managers, to notify them in the channel (naming who answered would break the anonymity)
    shown = replace(results, mentions=tuple(Mention(m.display_name, m.id) for m in {m.id: m for m in managers.values()}
                                            .values()))
    for binding in await store.channels(p.id):
        await to_channel(store, binding, kind="pulse.results", record_workspace_id=pulse.workspace_id,
                         record=p.ref, period=pulse.period, reply=shown, now=cad.now)
    summary = side_summary(answers, min_answers)  # the log keeps only the averages that were shown
    await cad.log("pulse.closed", p.ref, workspace_id=pulse.workspace_id, after={
        "period": pulse.period,
        **{f"side_{s}": {"answered": summary[s].answered, "asked": summary[s].asked,
                         **({} if summary[s].withheld else
                            {"averages": {k: str(v) for k, v in summary[s].averages.items()}})} for s in SIDES}})
    return True
