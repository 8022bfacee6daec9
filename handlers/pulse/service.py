"""The monthly health pulse on the clock: open, prompt every member, close, report.

Every member of a partnership rates the five "shared" (risk, resources, rewards, vision,
values) from 1 to 5. A pulse opens on the first `cadence.pulse.day` of each month at the
peer-sync time (or at once with `pulse`), and closes after `close_after_days` or as soon
as every member asked has answered; then both managers and every bound channel get the
averages per side, with each dimension whose sides are 2 points or more apart flagged.

One clock per partnership: the pulse is one record per partnership and month that every
member answers together (they are asked at once and compared side against side), so it
opens on a single clock, that of side A's manager (who created the partnership), rather
than at each member's own 09:00, which would spread one pulse over a day and more.
"""
from __future__ import annotations

import calendar
import logging
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from handlers.kernel.dates import format_instant
from handlers.kernel.model import Button, Card, Fact, Reply
from handlers.kernel.outbound import to_channel, to_person
from handlers.kernel.scheduled import Cadence
from storage.models import Partnership, Person, Pulse, PulseAnswer
from storage.store import Store

log = logging.getLogger(__name__)

DIMENSIONS = (
    ("risk", "Shared risk"),
    ("resources", "Shared resources"),
    ("rewards", "Shared rewards"),
    ("vision", "Shared vision"),
    ("values", "Shared values"),
)
COMMENT = "comment"
SCALE = "1 (poor) to 5 (strong)"
IMBALANCE_GAP = Decimal(2)  # sides this far apart on a dimension: an imbalance
SIDES = ("a", "b")
# A clock moved by up to 26 hours (UTC-12 → UTC+14) moves a month's opening by as much: the
# opening of the month a pending pulse_next_at stands for is the first one after it minus this.
_CLOCK_SHIFT = timedelta(hours=27)
_COMMENT_SHOWN = 500  # characters of one comment in the results


def pref(p: Partnership) -> str:
    return f"P-{p.number}"


# --- the monthly rule: the first <day> of the month at <time>, in one timezone ----------------
def _trigger(day: str, hhmm: str, tz: str) -> CronTrigger:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return CronTrigger(day=f"1st {day}", hour=hour, minute=minute, timezone=ZoneInfo(tz))


def fire_at_or_after(day: str, hhmm: str, tz: str, moment: datetime) -> datetime:
    """In UTC: a local time of a repeated (fall-back) hour compares unequal to every instant
    of another zone, even its own (PEP 495)."""
    return _trigger(day, hhmm, tz).get_next_fire_time(None, moment).astimezone(timezone.utc)


def fire_of_month(day: str, hhmm: str, tz: str, year: int, month: int) -> datetime:
    """The opening of that month (CronTrigger is DST-aware: a wall time a spring-forward skips
    runs once, just after)."""
    return fire_at_or_after(day, hhmm, tz, datetime(year, month, 1, tzinfo=ZoneInfo(tz)))


def next_month_fire(day: str, hhmm: str, tz: str, fire: datetime) -> datetime:
    """The opening of the month after `fire`'s: counted from the 1st, so a fall-back that
    repeats the hour of `fire` can never give a second opening in one month."""
    local = fire.astimezone(ZoneInfo(tz))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return fire_of_month(day, hhmm, tz, year, month)


def latest_fire_not_after(day: str, hhmm: str, tz: str, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    fire = fire_of_month(day, hhmm, tz, local.year, local.month)
    if fire > now:
        year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        fire = fire_of_month(day, hhmm, tz, year, month)
    return fire


def month_period(fire: datetime, tz: str) -> str:
    """'2026-12': the period of a monthly pulse (the month of its opening, on its clock)."""
    local = fire.astimezone(ZoneInfo(tz))
    return f"{local.year}-{local.month:02d}"


def instant_period(now: datetime) -> str:
    """The period of a pulse asked for with `pulse`: its opening instant, in UTC
    ('20261210T101500Z'), which never collides with a month's '2026-12'."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def period_label(pulse: Pulse, tz: str) -> str:
    if len(pulse.period) == 7:  # YYYY-MM
        year, month = pulse.period.split("-")
        return f"{calendar.month_name[int(month)]} {year}"
    return f"asked for {format_instant(pulse.opened_at, tz)}"


# --- who and which clock ------------------------------------------------------------------------
async def managers_by_side(store: Store, p: Partnership) -> dict[str, Person]:
    members = await store.members(p.id)
    ids = {m.side: m.person_id for m in members if m.role == "manager"}
    people = await store.people(set(ids.values()) | {p.created_by_id})
    by_side = {side: people[pid] for side, pid in ids.items()}
    by_side.setdefault("a", people[p.created_by_id])
    return by_side


# --- the tick ----------------------------------------------------------------------------------
async def due(store: Store, now: datetime, settings: Any) -> list:
    """Pulses to close first (a closing one makes way for the month's new one), then
    partnerships whose pulse opens now or that have no opening scheduled yet."""
    closing = [("close", pulse_id) for pulse_id in await store.pulses_to_close(now)]
    return closing + [("open", pid) for pid in await store.partnerships_due_for_pulse(now)]


async def run(cad: Cadence, item: Any) -> bool:
    kind, record_id = item
    if kind == "close":
        pulse = await cad.store.session.get(Pulse, record_id)
        if pulse is None or pulse.closed_at or pulse.closes_at > cad.now:
            return False  # another process closed it a moment ago
        return await close(cad, pulse, await cad.store.session.get(Partnership, pulse.partnership_id))
    return await _monthly(cad, record_id)


async def _monthly(cad: Cadence, partnership_id: int) -> bool:
    store = cad.store
    p = await store.lock_partnership(partnership_id)  # a second process waits here, then finds it done
    if p is None:
        return False
    day, hhmm = cad.get("cadence.pulse.day"), cad.get("cadence.peer_sync.time")
    tz = cad.tz((await managers_by_side(store, p))["a"])
    if p.pulse_next_at is None:
        p.pulse_next_at = _first_opening(cad, p, day, hhmm, tz)
    # the opening on side A's manager's clock as it is now (it may have moved since it was planned)
    opening = fire_at_or_after(day, hhmm, tz, p.pulse_next_at - _CLOCK_SHIFT)
    if opening > cad.now:
        p.pulse_next_at = opening
        return False
    fire = latest_fire_not_after(day, hhmm, tz, cad.now)  # after downtime, only the latest month
    period = month_period(fire, tz)
    p.pulse_next_at = next_month_fire(day, hhmm, tz, fire)
    already = await store.open_pulse(p.id)
    if already:  # a `pulse` asked for a few days ago is still open: it stands for this month's
        await store.log(workspace_id=p.workspace_id, at=cad.now, person_id=None, platform="scheduler",
                        action="pulse.skipped", record=pref(p),
                        after={"period": period, "open": already.period})
        return False
    pulse = await open_pulse(cad, p, period)
    if pulse is None:
        return False
    await prompt_members(cad, pulse, p)
    return True


def _first_opening(cad: Cadence, p: Partnership, day: str, hhmm: str, tz: str) -> datetime:
    """When a partnership not scheduled yet first has its pulse: this month's opening if it
    came after the partnership was made and its pulse would still be open (the tick had not
    run since), else the next one. A partnership older than the pulse feature starts next
    opening, not with a late one at deployment."""
    latest = latest_fire_not_after(day, hhmm, tz, cad.now)
    if latest >= p.created_at and cad.now < latest + timedelta(days=cad.get("cadence.pulse.close_after_days")):
        return latest
    return fire_at_or_after(day, hhmm, tz, cad.now)


# --- opening and prompting ----------------------------------------------------------------------
async def open_pulse(cad: Cadence, p: Partnership, period: str, opener: Person | None = None,
                     platform: str = "scheduler") -> Pulse | None:
    """A new pulse of `p` with a part for every member as of now; None when this period's
    was opened before (by another process). The caller holds store.lock_partnership."""
    store = cad.store
    if not await store.claim(f"pulse.open:{p.workspace_id}/{pref(p)}:{period}:-", cad.now):
        return None
    pulse = Pulse(workspace_id=p.workspace_id, partnership_id=p.id, period=period, opened_at=cad.now,
                  closes_at=cad.now + timedelta(days=cad.get("cadence.pulse.close_after_days")))
    await store.add(pulse)
    members = await store.members(p.id)
    for m in members:
        store.session.add(PulseAnswer(pulse_id=pulse.id, person_id=m.person_id, side=m.side))
    await store.session.flush()
    await store.log(workspace_id=p.workspace_id, at=cad.now, person_id=opener.id if opener else None,
                    platform=platform, action="pulse.opened", record=pref(p),
                    after={"period": period, "closes_at": pulse.closes_at.isoformat(), "members": len(members)})
    return pulse


async def prompt_members(cad: Cadence, pulse: Pulse, p: Partnership, opener: Person | None = None) -> list[Person]:
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
        if not await to_person(store, workspace_id=pulse.workspace_id, person=person, kind="pulse.prompt",
                               record=pref(p), period=pulse.period, now=cad.now,
                               reply=prompt_reply(pulse, p, format_instant(pulse.closes_at, cad.tz(person)), opener)):
            waiting.append(person)
    return waiting


def prompt_reply(pulse: Pulse, p: Partnership, closes: str, opener: Person | None) -> Reply:
    who = f"{opener.display_name} asked for a health pulse" if opener else "Time for the monthly health pulse"
    text = (f"{who} of {pref(p)} {p.name}: rate shared risk, shared resources, shared rewards, shared vision "
            f"and shared values from {SCALE}, and add a comment if you like. Open until {closes}. "
            f"Click Answer or type `pulse answer {pref(p)}`.")
    return Reply(text, cards=(Card(
        title=f"Health pulse · {pref(p)} {p.name}",
        text=f"Five ratings from {SCALE}. Results go out per side, never per person.",
        facts=(Fact("Open until", closes),),
        buttons=(Button("Answer", f"pulse answer {pref(p)}", "primary"),)),))


# --- closing and the results --------------------------------------------------------------------
async def close(cad: Cadence, pulse: Pulse, p: Partnership) -> bool:
    """Close the pulse and send its results, once: to both managers and every bound channel."""
    store = cad.store
    if pulse.closed_at or not await store.claim(f"pulse.results:{pulse.workspace_id}/{pref(p)}:{pulse.period}:-",
                                                cad.now):
        return False
    pulse.closed_at = cad.now
    answers = await store.pulse_answers(pulse.id)
    managers = await managers_by_side(store, p)
    results = build_results(pulse, p, answers, managers, cad.tz(managers["a"]))
    for manager in {m.id: m for m in managers.values()}.values():
        await to_person(store, workspace_id=pulse.workspace_id, person=manager, kind="pulse.results",
                        record=pref(p), period=pulse.period, reply=results, now=cad.now)
    for binding in await store.channels(p.id):
        await to_channel(store, binding, kind="pulse.results", record_workspace_id=pulse.workspace_id,
                         record=pref(p), period=pulse.period, reply=results, now=cad.now)
    summary = side_summary(answers)
    await store.log(workspace_id=pulse.workspace_id, at=cad.now, person_id=None, platform="scheduler",
                    action="pulse.closed", record=pref(p),
                    after={"period": pulse.period,
                           **{f"side_{s}": {"answered": summary[s].answered, "asked": summary[s].asked,
                                            "averages": {k: str(v) for k, v in summary[s].averages.items()}}
                              for s in SIDES}})
    return True


class SideSummary:
    """One side's part of a pulse: how many were asked and answered, its averages (one
    decimal, rounded half up) and its answerers' comments."""

    def __init__(self, answers: list[PulseAnswer]):
        answered = [a for a in answers if a.answered_at]
        self.asked, self.answered = len(answers), len(answered)
        self.averages: dict[str, Decimal] = {}
        if answered:
            for dim, _ in DIMENSIONS:
                total = sum(int(a.scores[dim]) for a in answered)
                self.averages[dim] = (Decimal(total) / len(answered)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        self.comments = [a.comment for a in sorted(answered, key=lambda a: a.answered_at) if a.comment]


def side_summary(answers: list[PulseAnswer]) -> dict[str, SideSummary]:
    return {side: SideSummary([a for a in answers if a.side == side]) for side in SIDES}


def imbalances(summary: dict[str, SideSummary]) -> list[tuple[str, str, Decimal]]:
    """(dimension, label, gap) where the sides' averages, as shown, differ by 2 or more;
    none while a side has no answer."""
    a, b = summary["a"].averages, summary["b"].averages
    if not a or not b:
        return []
    gaps = [(dim, label, abs(a[dim] - b[dim])) for dim, label in DIMENSIONS]
    return [g for g in gaps if g[2] >= IMBALANCE_GAP]


def _shown(comment: str) -> str:
    text = " ".join(comment.split())
    return text if len(text) <= _COMMENT_SHOWN else text[:_COMMENT_SHOWN - 1] + "…"


def build_results(pulse: Pulse, p: Partnership, answers: list[PulseAnswer], managers: dict[str, Person],
                  tz: str) -> Reply:
    summary = side_summary(answers)
    names = {s: f"Side {s.upper()} ({managers[s].display_name})" if s in managers else f"Side {s.upper()}"
             for s in SIDES}
    title = f"Health pulse · {pref(p)} {p.name} · {period_label(pulse, tz)}"
    counts = " ".join(f"{names[s]}: {summary[s].answered} of {summary[s].asked} answered." for s in SIDES)
    silent = [names[s] for s in SIDES if summary[s].answered == 0]
    flagged = imbalances(summary)
    if len(silent) == 2:
        verdict = "Nobody answered this pulse."
    elif silent:
        verdict = f"{silent[0]}: nobody answered, so no imbalance can be computed."
    elif flagged:
        verdict = "Imbalance: " + "; ".join(
            f"{label.lower()} (A {summary['a'].averages[dim]}, B {summary['b'].averages[dim]}, gap {gap})"
            for dim, label, gap in flagged) + ". Worth talking through at the next peer sync."
    else:
        verdict = "No imbalance: the sides are less than 2 points apart on every dimension."
    status = f"{counts}\n{verdict}"
    lines, cards = [title, status], [Card(title=title, text=status)]

    flagged_dims = {dim for dim, _, _ in flagged}
    facts = []
    for dim, label in DIMENSIONS:
        value = " · ".join(f"{s.upper()} {summary[s].averages.get(dim, '—')}" for s in SIDES)
        facts.append(Fact(label, value + (" · imbalance" if dim in flagged_dims else "")))
    heading = f"Averages, {SCALE}"
    cards.append(Card(title=heading, facts=tuple(facts)))
    lines += [f"\n{heading}:"] + [f"  {f.label}: {f.value}" for f in facts]

    if flagged:  # what each side said, next to the gap it felt
        for s in SIDES:
            comments = summary[s].comments
            text = "\n".join(f"• {_shown(c)}" for c in comments) or "No comments."
            heading = f"Comments · {names[s]}"
            cards.append(Card(title=heading, text=text))
            lines += [f"\n{heading}:"] + [f"  {line}" for line in text.splitlines()]
    return Reply("\n".join(lines), cards=tuple(cards))
