"""The weekly peer sync (S-n): both managers answer six questions, then a side-by-side digest.

A partnership has one sync per ISO week (of each manager's local date: both prompts fall
on the same configured weekday, so they agree on the week). The scheduled prompt and
`sync now` open the same week's sync; the digest goes out once both have answered or at
the deadline (the next sync minus one day), whichever comes first.
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.partnerships import charter
from handlers.kernel.dates import format_instant
from handlers.kernel.text import lead_line
from handlers.kernel.model import Button, Card, Fact, Form, Question, Reply
from handlers.kernel.outbound import to_channel, to_person
from handlers.kernel.scheduled import Cadence
from handlers.commitments.messages import schedule_reminders
from handlers.kernel.rules import fire_at_or_after, follow_clock, next_fire, week_of, week_start
from storage.models import Commitment, Partnership, PeerSync, Person, SyncAnswer
from storage.store import Store

QUESTIONS = (
    ("results", "Results since the last sync"),
    ("people", "Update on individual salespeople"),
    ("working", "What is working"),
    ("change", "What needs to change"),
    ("commit", "What I commit to this week"),
    ("problems", "Problems to resolve together"),
)
PLEDGES = "commit"
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


def ref(sync: PeerSync) -> str:
    return f"S-{sync.number}"


def pref(p: Partnership) -> str:
    return f"P-{p.number}"


async def follow_timezone(store: Store, person_id: int, tz: str, now: datetime) -> None:
    """A manager's clock changed: their weekly prompt moves to its time on the new clock."""
    for series in await store.series_of_person(person_id):
        follow_clock(series, "next_run_at", tz, now)


# --- opening a week's sync and prompting ---------------------------------------------------
def open_key(p: Partnership, week: str) -> str:
    """The claim of opening `p`'s sync of `week`."""
    return f"sync.open:{p.workspace_id}/{pref(p)}:{week}:-"


def prompt_key(p: Partnership, week: str, manager_id: int) -> str:
    """The claim of prompting a manager for `p`'s sync of `week`."""
    return f"sync.prompt:{p.workspace_id}/{pref(p)}:{week}:{manager_id}"


def pledges_due_at(weekday: str, hhmm: str, tz: str, week: str) -> datetime:
    """The pledges of `week`'s sync are due at the next sync, on the opener's weekly rule."""
    monday = datetime.combine(week_start(week), time(), tzinfo=ZoneInfo(tz))
    return next_fire(weekday, hhmm, tz, fire_at_or_after(weekday, hhmm, tz, monday))


def deadline_of(cad: Cadence, pledges_due: datetime) -> datetime:
    """The digest goes out the day before the next sync, and never before a nudge had its chance."""
    nudge_after = timedelta(hours=cad.get("cadence.peer_sync.nudge_after_hours"))
    return max(pledges_due - timedelta(days=1), cad.now + nudge_after)


async def open_week_sync(cad: Cadence, p: Partnership, week: str, opener: Person) -> PeerSync:
    """This week's sync of `p`, created with both managers' parts on first need. Two processes
    opening it at once serialise on the claim; the second finds the first's."""
    store = cad.store
    if not await store.claim(open_key(p, week), cad.now):
        found = await store.peer_sync_of_week(p.id, week)
        if found:
            return found
    weekday, hhmm = cad.get("cadence.peer_sync.weekday"), cad.get("cadence.peer_sync.time")
    series = await store.series(p.id, opener.id)
    if series:
        weekday, hhmm = series.weekday, series.time
    pledges_due = pledges_due_at(weekday, hhmm, cad.tz(opener), week)
    deadline = deadline_of(cad, pledges_due)
    sync = PeerSync(workspace_id=p.workspace_id, number=await store.next_number(p.workspace_id, "S"),
                    partnership_id=p.id, week=week, opened_at=cad.now, deadline_at=deadline,
                    pledges_due_at=pledges_due)
    await store.add(sync)
    for m in await store.members(p.id):
        if m.role == "manager":
            store.session.add(SyncAnswer(peer_sync_id=sync.id, person_id=m.person_id, side=m.side))
    await store.session.flush()
    await store.log(workspace_id=p.workspace_id, at=cad.now, person_id=None, platform="scheduler",
                    action="peer_sync.opened", record=ref(sync), after={"partnership": pref(p), "week": week})
    return sync


async def prompt(cad: Cadence, sync: PeerSync, p: Partnership, manager: Person, *, send: bool = True) -> bool:
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
        await to_person(store, workspace_id=sync.workspace_id, person=manager, kind="sync.prompt",
                        record=ref(sync), period=sync.week, now=cad.now,
                        reply=prompt_reply(sync, p, peer, format_instant(sync.deadline_at, cad.tz(manager))))
    return True


def prompt_reply(sync: PeerSync, p: Partnership, peer: Person, deadline: str) -> Reply:
    """The weekly prompt with its Answer button; `deadline` as the manager's clock shows it."""
    return Reply(
        f"Time for your weekly peer sync {ref(sync)} with {peer.display_name} ({pref(p)} {p.name}). "
        f"Six short questions; answer by {deadline}. Click Answer or type `sync answer {ref(sync)}`.",
        cards=(Card(title=f"Peer sync {ref(sync)} · {pref(p)} {p.name}",
                    text=f"Your weekly sync with {peer.display_name}.",
                    facts=(Fact("Answer by", deadline),),
                    buttons=(Button("Answer", f"sync answer {ref(sync)}", "primary"),)),),
    )


async def prompt_late_joiners(cad: Cadence, sync: PeerSync, p: Partnership) -> int:
    """Prompt the managers whose own schedule will not reach this week any more (the
    partnership began after their weekday time): otherwise the digest would count them silent
    without their ever being asked."""
    prompted = 0
    for a in await cad.store.sync_answers(sync.id):
        series = await cad.store.series(p.id, a.person_id)
        if a.prompted_at is None and series and week_of(series.next_run_at, series.timezone) > sync.week:
            prompted += await prompt(cad, sync, p, await cad.store.get_person(a.person_id))
    return prompted


async def nudge(cad: Cadence, sync: PeerSync, p: Partnership, answer: SyncAnswer) -> bool:
    store = cad.store
    number = answer.nudges + 1
    if not await store.claim(f"sync.nudge:{sync.workspace_id}/{ref(sync)}:{number}:{answer.person_id}", cad.now):
        return False
    answer.nudges, answer.last_nudged_at = number, cad.now
    manager = await store.get_person(answer.person_id)
    peer_answer = next((a for a in await store.sync_answers(sync.id) if a.person_id != manager.id), None)
    peer = await store.get_person(peer_answer.person_id) if peer_answer else None
    peer_state = ""
    if peer:
        peer_state = f" {peer.display_name} has answered." if peer_answer.answered_at else \
            f" {peer.display_name} has not answered yet either."
    deadline = format_instant(sync.deadline_at, cad.tz(manager))
    await to_person(store, workspace_id=sync.workspace_id, person=manager, kind="sync.nudge", record=ref(sync),
                    period=str(number), now=cad.now, reply=Reply(
        f"Reminder: peer sync {ref(sync)} ({pref(p)} {p.name}) is waiting for your answer.{peer_state} "
        f"The digest goes out by {deadline}.",
        cards=(Card(title=f"{ref(sync)} is waiting for you", text=peer_state.strip(),
                    facts=(Fact("Digest by", deadline),),
                    buttons=(Button("Answer", f"sync answer {ref(sync)}", "primary"),)),),
    ))
    return True


async def _peer_of(store: Store, sync: PeerSync, person_id: int) -> Person:
    for a in await store.sync_answers(sync.id):
        if a.person_id != person_id:
            return await store.get_person(a.person_id)
    return await store.get_person(person_id)


# --- the form and the answer ---------------------------------------------------------------
def answer_form(sync: PeerSync, p: Partnership, answer: SyncAnswer, edit: bool) -> Form:
    previous = (answer.answers or {}) if edit else {}
    return Form(
        title=f"Peer sync {ref(sync)}",
        intro=f"{pref(p)} {p.name}, week {sync.week}. Answer what applies; each line of "
              f"'{QUESTIONS[4][1]}' becomes a commitment due by the next sync.",
        submit_command=f"sync submit {ref(sync)}" + (" edit" if edit else ""),
        questions=tuple(
            Question(id=qid, label=label, value=previous.get(qid, ""),
                     hint="One commitment per line." if qid == PLEDGES else "")
            for qid, label in QUESTIONS
        ),
        submit_label="Save answer" if edit else "Submit",
    )


def pledge_lines(text: str) -> list[str]:
    lines = (_BULLET.sub("", line).strip() for line in (text or "").splitlines())
    return [line for line in lines if line]


async def save_answer(cad: Cadence, sync: PeerSync, p: Partnership, answer: SyncAnswer, owner: Person,
                      values: dict[str, str], platform: str) -> list[Commitment]:
    """Store the answers and turn pledge lines into commitments. On an edit, pledges kept
    word for word stay, new lines are added and lines taken out are dropped openly."""
    store = cad.store
    before = answer.answers
    answer.answers = {qid: (values.get(qid) or "").strip() for qid, _ in QUESTIONS}
    if answer.answered_at:
        answer.edited_at = cad.now
    else:
        answer.answered_at = cad.now
    existing = [c for c in await store.pledges(sync.id) if c.owner_id == owner.id and c.status == "open"]
    wanted = pledge_lines(answer.answers[PLEDGES])
    created = []
    for line in wanted:
        match = next((c for c in existing if c.what == line), None)
        if match:
            existing.remove(match)
            continue
        created.append(await _pledge(cad, sync, p, owner, line, platform))
    for c in existing:
        c.status, c.closed_at, c.close_note = "dropped", cad.now, f"taken out of the {ref(sync)} answer"
        c.cadence_at = c.cadence_step = None
        await store.log(workspace_id=sync.workspace_id, at=cad.now, person_id=owner.id, platform=platform,
                        action="commitment.dropped", record=f"C-{c.number}", after={"note": c.close_note})
    await store.log(workspace_id=sync.workspace_id, at=cad.now, person_id=owner.id, platform=platform,
                    action="peer_sync.answer_edited" if before else "peer_sync.answered", record=ref(sync),
                    before=before, after=answer.answers)
    return created


async def _pledge(cad: Cadence, sync: PeerSync, p: Partnership, owner: Person, what: str, platform: str) -> Commitment:
    store = cad.store
    due_at = sync.pledges_due_at
    c = Commitment(
        workspace_id=sync.workspace_id, number=await store.next_number(sync.workspace_id, "C"),
        owner_id=owner.id, created_by_id=owner.id, what=what,
        due_date=due_at.astimezone(ZoneInfo(cad.tz(owner))).date(), due_at=due_at,
        account=p.name, peer_sync_id=sync.id, created_at=cad.now,
    )
    schedule_reminders(c, cad.now, cad.get("cadence.commitments.remind_before_hours"))
    await store.add(c)
    await store.log(workspace_id=sync.workspace_id, at=cad.now, person_id=owner.id, platform=platform,
                    action="commitment.created", record=f"C-{c.number}",
                    after={"what": what, "due_at": due_at.isoformat(), "pledge_of": ref(sync)})
    return c


# --- the digest ----------------------------------------------------------------------------
async def send_digest(cad: Cadence, sync: PeerSync, p: Partnership) -> bool:
    """The side-by-side digest, once: to both managers and every bound channel."""
    store = cad.store
    if sync.digest_at or not await store.claim(f"sync.digest:{sync.workspace_id}/{ref(sync)}:{sync.week}:-", cad.now):
        return False
    sync.digest_at = cad.now
    answers = await store.sync_answers(sync.id)
    people = await store.people({a.person_id for a in answers})
    previous = await store.previous_sync(sync)
    pledges = await store.pledges(previous.id) if previous else []
    owners = await store.people({c.owner_id for c in pledges})
    goals = [g.text for g in await store.goals(p.id)]
    unagreed = [m.display_name for m in await charter.not_agreed(store, p)]
    digest = build_digest(sync, p, answers, people, goals, previous, pledges, owners, cad.now,
                          await _open_lead_lines(cad, p), unagreed)
    for a in answers:
        await to_person(store, workspace_id=sync.workspace_id, person=people[a.person_id], kind="sync.digest",
                        record=ref(sync), period=sync.week, reply=digest, now=cad.now)
    for binding in await store.channels(p.id):
        await to_channel(store, binding, kind="sync.digest", record_workspace_id=sync.workspace_id,
                         record=ref(sync), period=sync.week, reply=digest, now=cad.now)
    await store.log(workspace_id=sync.workspace_id, at=cad.now, person_id=None, platform="scheduler",
                    action="peer_sync.digest", record=ref(sync),
                    after={"answered": [a.person_id for a in answers if a.answered_at]})
    return True


async def _open_lead_lines(cad: Cadence, p: Partnership) -> list[str]:
    """The partnership's open leads, each with its next activity or the lack of one."""
    leads = await cad.store.open_leads_of_partnership(p.id)
    owners = await cad.store.people({lead.owner_id for lead in leads})
    next_activities = await cad.store.next_activities([lead.id for lead in leads])
    return [lead_line(lead, owners, next_activities.get(lead.id), cad.settings.timezone) for lead in leads]


def pledge_status(c: Commitment, now: datetime) -> str:
    if c.status == "done":
        return "kept" if c.closed_at <= c.due_at else "kept late"
    if c.status == "dropped":
        return "dropped"
    return "missed" if now >= c.due_at else "open"


def build_digest(sync: PeerSync, p: Partnership, answers: list[SyncAnswer], people: dict[int, Person],
                 goals: list[str], previous: PeerSync | None, pledges: list[Commitment],
                 owners: dict[int, Person], now: datetime, lead_lines: list[str] = (),
                 charter_not_agreed_by: list[str] = ()) -> Reply:
    title = f"Peer sync {ref(sync)} · {pref(p)} {p.name} · week {sync.week}"
    silent = [people[a.person_id].display_name for a in answers if not a.answered_at]
    if len(silent) == len(answers):
        status = "Nobody answered this week: " + " and ".join(silent) + " did not answer."
    elif silent:
        status = f"One-sided: {', '.join(silent)} did not answer."
    else:
        status = "Both managers answered."
    if charter_not_agreed_by:
        status += (f" Charter not agreed by {' and '.join(charter_not_agreed_by)}: "
                   f"`partnership {pref(p)} agree`.")
    lines = [title, status]
    cards = [Card(title=title, text=status)]
    for qid, label in QUESTIONS:
        facts = tuple(Fact(people[a.person_id].display_name,
                           ((a.answers or {}).get(qid) or "—") if a.answered_at else "(did not answer)")
                      for a in answers)
        cards.append(Card(title=label, facts=facts))
        lines.append(f"\n{label}:")
        lines.extend(f"  {f.label}: {f.value}" for f in facts)
    goal_text = "\n".join(f"{i}. {g}" for i, g in enumerate(goals, 1)) or \
        f"None yet: add one with `partnership {pref(p)} goal <text>`."
    cards.append(Card(title="Mutual goals", text=goal_text))
    lines += ["\nMutual goals:", goal_text]
    if previous:
        pledge_facts = tuple(
            Fact(f"C-{c.number} · {owners[c.owner_id].display_name}", f"{c.what}: {pledge_status(c, now)}")
            for c in pledges)
        heading = f"Last week's pledges ({ref(previous)})"
        cards.append(Card(title=heading, text="" if pledges else "No pledges were made.", facts=pledge_facts))
        lines.append(f"\n{heading}:")
        lines.extend([f"  {f.label}: {f.value}" for f in pledge_facts] or ["  No pledges were made."])
    if lead_lines:
        cards.append(Card(title="Open leads", text="\n".join(lead_lines)))
        lines += ["\nOpen leads:"] + [f"  {line}" for line in lead_lines]
    return Reply("\n".join(lines), cards=tuple(cards))
