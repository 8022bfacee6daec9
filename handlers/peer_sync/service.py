"""The weekly peer sync (S-n): both managers answer six questions, then a side-by-side digest.

A partnership has one sync per ISO week (of each manager's local date: both prompts fall
on the same configured weekday, so they agree on the week). The scheduled prompt and
`sync now` open the same week's sync; the digest goes out once both have answered or at
the deadline (the next sync minus one day), whichever comes first.

Opening a sync and prompting its managers happen one series at a time here, and a page of
series at once in fanout.py; both build their rows with the builders below (`new_sync`,
`manager_parts`, `opened_details`, the keys), so the two paths cannot drift apart.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.commitments import service as commitments
from handlers.kernel.context import Context, JobContext
from handlers.kernel.dates import format_instant
from handlers.kernel.model import Mention
from handlers.kernel.outbound import key, to_channel, to_person
from handlers.kernel.rules import (
    fire_at_or_after,
    fires_before,
    follow_clock,
    latest_fire_not_after,
    next_fire,
    week_of,
    week_start,
)
from handlers.kernel.text import lead_line
from handlers.partnerships.service import not_agreed
from handlers.peer_sync.messages import PLEDGES, QUESTIONS, build_digest, nudge_reply, prompt_reply
from storage.models import Commitment, Partnership, PeerSync, Person, SyncAnswer
from storage.store import Store

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


async def follow_timezone(store: Store, person_id: int, tz: str, now: datetime) -> None:
    """A manager's clock changed: their weekly prompt moves to its time on the new clock."""
    for series in await store.series_of_person(person_id):
        follow_clock(series, "next_run_at", tz, now)


# --- the rows of opening a week's sync and prompting (shared with fanout.py) ----------------------
def open_key(p: Partnership, week: str) -> str:
    """The claim of opening `p`'s sync of `week`."""
    return key("sync.open", p.workspace_id, p.ref, week)


def prompt_key(p: Partnership, week: str, manager_id: int) -> str:
    """The claim of prompting a manager for `p`'s sync of `week`."""
    return key("sync.prompt", p.workspace_id, p.ref, week, manager_id)


def pledges_due_at(weekday: str, hhmm: str, tz: str, week: str) -> datetime:
    """The pledges of `week`'s sync are due at the next sync, on the opener's weekly rule."""
    monday = datetime.combine(week_start(week), time(), tzinfo=ZoneInfo(tz))
    return next_fire(weekday, hhmm, tz, fire_at_or_after(weekday, hhmm, tz, monday))


def deadline_of(cad: JobContext, pledges_due: datetime) -> datetime:
    """The digest goes out the day before the next sync, and never before a nudge had its chance."""
    nudge_after = timedelta(hours=cad.settings.cadence.peer_sync.nudge_after_hours)
    return max(pledges_due - timedelta(days=1), cad.now + nudge_after)


def due_run(weekday: str, hhmm: str, tz: str, owed: datetime,
            now: datetime) -> tuple[datetime | None, list[str], datetime]:
    """Missed runs coalesced: of a series' runs from `owed` (the one it waits for) to `now`, only
    the latest happens, and only while its sync's digest deadline (the day before the run after
    it) is ahead. Returns that run (None when its deadline has passed too), the weeks skipped,
    and the run after it."""
    latest = latest_fire_not_after(weekday, hhmm, tz, now)
    following = next_fire(weekday, hhmm, tz, latest)
    skipped = [week_of(fire, tz) for fire in fires_before(weekday, hhmm, tz, owed, latest)]
    run: datetime | None = latest
    if following - timedelta(days=1) <= now:
        run, skipped = None, [*skipped, week_of(latest, tz)]
    return run, list(dict.fromkeys(skipped)), following


def new_sync(cad: JobContext, p: Partnership, week: str, pledges_due: datetime, number: int) -> PeerSync:
    return PeerSync(workspace_id=p.workspace_id, number=number, partnership_id=p.id, week=week, opened_at=cad.now,
                    deadline_at=deadline_of(cad, pledges_due), pledges_due_at=pledges_due)


def manager_parts(sync: PeerSync, managers: Iterable[tuple[int, str]]) -> list[SyncAnswer]:
    """A part for each manager, (person id, side), in the order of their sides."""
    return sorted((SyncAnswer(peer_sync_id=sync.id, person_id=person_id, side=side) for person_id, side in managers),
                  key=lambda a: a.side)


def opened_details(p: Partnership, week: str) -> dict:
    """What the log says of a sync opened."""
    return {"partnership": p.ref, "week": week}


def prompt_to(sync: PeerSync, p: Partnership, manager: Person, peer: Person, manager_tz: str):
    """The prompt owed to `manager`: (kind, record, period, reply)."""
    return "sync.prompt", sync.ref, sync.week, prompt_reply(sync, p, peer, format_instant(sync.deadline_at, manager_tz))


# --- opening a week's sync and prompting, one series at a time -----------------------------------
async def open_week_sync(cad: JobContext, p: Partnership, week: str, opener: Person) -> PeerSync:
    """This week's sync of `p`, created with both managers' parts on first need. Two processes
    opening it at once serialise on the claim; the second finds the first's."""
    store = cad.store
    if not await store.claim(open_key(p, week), cad.now):
        found = await store.peer_sync_of_week(p.id, week)
        if found:
            return found
    rule = cad.settings.cadence.peer_sync
    weekday, hhmm = rule.weekday, rule.time
    series = await store.series(p.id, opener.id)
    if series:
        weekday, hhmm = series.weekday, series.time
    pledges_due = pledges_due_at(weekday, hhmm, cad.timezone_of(opener), week)
    sync = new_sync(cad, p, week, pledges_due, await store.next_number(p.workspace_id, PeerSync.KIND))
    await store.add(sync)
    await store.add(*manager_parts(sync, ((m.person_id, m.side) for m in await store.members(p.id)
                                          if m.role == "manager")))
    await cad.log("peer_sync.opened", sync.ref, after=opened_details(p, week), workspace_id=p.workspace_id)
    return sync


SKIPPED = "sync prompts skipped"  # what the tick's summary calls a missed weekly prompt not sent


async def skip_missed(cad: JobContext, p: Partnership, manager: Person, weeks: list[str]) -> bool:
    """Log, once, the weeks whose prompt to `manager` was not sent because the tick did not run
    before their digest deadline; False when another process did it a moment ago."""
    if not await cad.store.claim(key("sync.skip", p.workspace_id, p.ref, weeks[-1], manager.id), cad.now):
        return False
    await cad.log("peer_sync.skipped", p.ref, workspace_id=p.workspace_id,
                  after={"manager_id": manager.id, "weeks": weeks,
                         "reason": "digest deadline passed before the tick ran"})
    cad.count(SKIPPED, len(weeks))
    return True


async def prompt(cad: JobContext, sync: PeerSync, p: Partnership, manager: Person, *, send: bool = True) -> bool:
    """Ask `manager` for their answer, once per week; `send=False` only records that they
    have the form already (they opened it with `sync now`)."""
    store = cad.store
    if not await store.claim(prompt_key(p, sync.week, manager.id), cad.now):
        return False
    answer = await store.sync_answer(sync.id, manager.id)
    if answer is None or answer.answered_at:
        return False
    answer.prompted_at = answer.prompted_at or cad.now
    if send:
        peer = await _peer_of(store, sync, manager.id)
        kind, record, period, reply = prompt_to(sync, p, manager, peer, cad.timezone_of(manager))
        await to_person(store, workspace_id=sync.workspace_id, person=manager, kind=kind, record=record,
                        period=period, now=cad.now, reply=reply)
    return True


async def prompt_late_joiners(cad: JobContext, sync: PeerSync, p: Partnership) -> int:
    """Prompt the managers whose own schedule will not reach this week any more (the
    partnership began after their weekday time): otherwise the digest would count them silent
    without their ever being asked."""
    prompted = 0
    for a in await cad.store.sync_answers(sync.id):
        series = await cad.store.series(p.id, a.person_id)
        if a.prompted_at is None and series and week_of(series.next_run_at, series.timezone) > sync.week:
            prompted += await prompt(cad, sync, p, await cad.store.get_person(a.person_id))
    return prompted


async def nudge(cad: JobContext, sync: PeerSync, p: Partnership, answer: SyncAnswer) -> bool:
    store = cad.store
    number = answer.nudges + 1
    if not await store.claim(key("sync.nudge", sync.workspace_id, sync.ref, str(number), answer.person_id), cad.now):
        return False
    answer.nudges, answer.last_nudged_at = number, cad.now
    manager = await store.get_person(answer.person_id)
    peer_answer = next((a for a in await store.sync_answers(sync.id) if a.person_id != manager.id), None)
    peer = await store.get_person(peer_answer.person_id) if peer_answer else None
    deadline = format_instant(sync.deadline_at, cad.timezone_of(manager))
    await to_person(store, workspace_id=sync.workspace_id, person=manager, kind="sync.nudge", record=sync.ref,
                    period=str(number), now=cad.now,
                    reply=nudge_reply(sync, p, peer, bool(peer_answer and peer_answer.answered_at), deadline))
    return True


async def _peer_of(store: Store, sync: PeerSync, person_id: int) -> Person:
    for a in await store.sync_answers(sync.id):
        if a.person_id != person_id:
            return await store.get_person(a.person_id)
    return await store.get_person(person_id)


# --- the answer -----------------------------------------------------------------------------------
def pledge_lines(text: str) -> list[str]:
    lines = (_BULLET.sub("", line).strip() for line in (text or "").splitlines())
    return [line for line in lines if line]


async def save_answer(ctx: Context, sync: PeerSync, p: Partnership, answer: SyncAnswer,
                      values: dict[str, str]) -> list[Commitment]:
    """Store the caller's answers and turn their pledge lines into commitments. On an edit,
    pledges kept word for word stay, new lines are added and lines taken out are dropped openly."""
    before = answer.answers
    answer.answers = {qid: (values.get(qid) or "").strip() for qid, _ in QUESTIONS}
    if answer.answered_at:
        answer.edited_at = ctx.now
    else:
        answer.answered_at = ctx.now
    existing = [c for c in await ctx.store.pledges(sync.id) if c.owner_id == ctx.caller.id and c.status == "open"]
    created = []
    for line in pledge_lines(answer.answers[PLEDGES]):
        match = next((c for c in existing if c.what == line), None)
        if match:
            existing.remove(match)
            continue
        created.append(await commitments.create(
            ctx, ctx.caller, line, due_at=sync.pledges_due_at, workspace_id=sync.workspace_id, account=p.name,
            peer_sync_id=sync.id,
            logged={"what": line, "due_at": sync.pledges_due_at.isoformat(), "pledge_of": sync.ref}))
    for c in existing:
        await commitments.drop(ctx, c, f"taken out of the {sync.ref} answer")
    await ctx.log("peer_sync.answer_edited" if before else "peer_sync.answered", sync.ref,
                  before=before, after=answer.answers, workspace_id=sync.workspace_id)
    return created


# --- the digest -----------------------------------------------------------------------------------
async def send_digest(cad: JobContext, sync: PeerSync, p: Partnership) -> bool:
    """The side-by-side digest, once: to both managers and every bound channel."""
    store = cad.store
    if sync.digest_at or not await store.claim(key("sync.digest", sync.workspace_id, sync.ref, sync.week), cad.now):
        return False
    sync.digest_at = cad.now
    answers = await store.sync_answers(sync.id)
    people = await store.people({a.person_id for a in answers})
    previous = await store.previous_sync(sync)
    pledges = await store.pledges(previous.id) if previous else []
    owners = await store.people({c.owner_id for c in pledges})
    goals = [g.text for g in await store.goals(p.id)]
    unagreed = [m.display_name for m in await not_agreed(store, p)]
    digest = build_digest(sync, p, answers, people, goals, previous, pledges, owners, cad.now,
                          await _open_lead_lines(cad, p), unagreed)
    # the managers are mentioned in the channels, so that they are notified (not in their own copy)
    digest = replace(digest, mentions=tuple(Mention(people[a.person_id].display_name, a.person_id) for a in answers))
    for a in answers:
        await to_person(store, workspace_id=sync.workspace_id, person=people[a.person_id], kind="sync.digest",
                        record=sync.ref, period=sync.week, reply=digest, now=cad.now)
    for binding in await store.channels(p.id):
        await to_channel(store, binding, kind="sync.digest", record_workspace_id=sync.workspace_id,
                         record=sync.ref, period=sync.week, reply=digest, now=cad.now)
    await cad.log("peer_sync.digest", sync.ref, after={"answered": [a.person_id for a in answers if a.answered_at]},
                  workspace_id=sync.workspace_id)
    return True


async def _open_lead_lines(cad: JobContext, p: Partnership) -> list[str]:
    """The partnership's open leads, each with its next activity or the lack of one."""
    leads = await cad.store.open_leads_of_partnership(p.id)
    owners = await cad.store.people({lead.owner_id for lead in leads})
    next_activities = await cad.store.next_activities([lead.id for lead in leads])
    return [lead_line(lead, owners, next_activities.get(lead.id), cad.settings.timezone) for lead in leads]
