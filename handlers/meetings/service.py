"""Community-of-practice meetings on the clock: the start post, the end prompt, the nudges.

A series fires at its weekday and time on the organiser's clock (CronTrigger, DST-aware,
as the peer sync). Each start creates the occurrence M-n and posts its purpose, the open
action items and leads of the series in the partnership's bound channels. At the end the
organiser is asked for action items; until the meeting is closed they are nudged every
`cadence.meetings.nudge_hours`, never in their night.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers.kernel.dates import format_instant
from handlers.kernel.text import lead_line
from handlers.kernel.model import Button, Card, Fact, Reply
from handlers.kernel.outbound import to_channel, to_person
from handlers.kernel.scheduled import Cadence
from handlers.kernel.rules import follow_clock, latest_fire_not_after, next_fire, outside_quiet_hours
from storage.models import Commitment, Lead, Meeting, MeetingSeries, Partnership, Person
from storage.store import Store


def mref(m: Meeting) -> str:
    return f"M-{m.number}"


def capture_button(m: Meeting) -> Button:
    return Button("Capture action items", f"meeting actions {mref(m)}", "primary")


async def follow_timezone(store: Store, person_id: int, tz: str, now: datetime) -> None:
    """An organiser's clock changed: their series start at their time on the new clock."""
    for series in await store.meeting_series_of_person(person_id):
        follow_clock(series, "next_start_at", tz, now)


def when_text(m: Meeting, tz: str) -> str:
    return f"{format_instant(m.starts_at, tz)}, {int((m.ends_at - m.starts_at).total_seconds() // 60)} min"


# --- start ---------------------------------------------------------------------------------
async def start_meeting(cad: Cadence, series: MeetingSeries) -> Meeting | None:
    """The occurrence due now, once; None when another tick or process made it first."""
    store = cad.store
    organiser = await store.get_person(series.organiser_id)
    tz = cad.tz(organiser)
    if tz != series.timezone:  # the organiser's clock changed by a way that did not move the series
        follow_clock(series, "next_start_at", tz, cad.now)
        if series.next_start_at > cad.now:
            return None
    # the latest start due (after downtime only it: nobody wants last month's meetings)
    starts = latest_fire_not_after(series.weekday, series.time, tz, cad.now)
    series.next_start_at = next_fire(series.weekday, series.time, tz, starts)
    if not await store.claim(f"meeting.start:{series.workspace_id}/series-{series.id}:{starts.isoformat()}:-", cad.now):
        return None
    ends = starts + timedelta(minutes=series.minutes)
    m = Meeting(workspace_id=series.workspace_id, number=await store.next_number(series.workspace_id, "M"),
                series_id=series.id, partnership_id=series.partnership_id, organiser_id=organiser.id,
                purpose=series.purpose, starts_at=starts, ends_at=ends, cadence_at=ends, cadence_step="end")
    await store.add(m)
    await store.log(workspace_id=m.workspace_id, at=cad.now, person_id=None, platform="scheduler",
                    action="meeting.started", record=mref(m),
                    after={"purpose": m.purpose, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})
    if ends > cad.now:  # a meeting that ended while the bot was down gets no start post, only its end prompt
        p = await store.session.get(Partnership, m.partnership_id)
        await post_to_partnership(cad, p, organiser, "meeting.start", mref(m),
                                  await start_post(cad, series, m, p, tz))
    return m


async def start_post(cad: Cadence, series: MeetingSeries, m: Meeting, p: Partnership, tz: str) -> Reply:
    store = cad.store
    actions = await store.open_action_items_of_series(series.id)
    leads = await store.open_leads_of_series(series.id)
    people = await store.people({c.owner_id for c in actions} | {lead.owner_id for lead in leads})
    next_activities = await store.next_activities([lead.id for lead in leads])
    title = f"{mref(m)} starts now · {m.purpose}"
    intro = (f"Community of practice of P-{p.number} {p.name}, {when_text(m, tz)}. Purpose: {m.purpose}. "
             f"Log ideas as leads with `idea <account>: <idea>`; capture action items before it ends.")
    action_facts = tuple(Fact(f"C-{c.number} · {people[c.owner_id].display_name}",
                              f"{c.what}, due {format_instant(c.due_at, cad.tz(people[c.owner_id]))}")
                         for c in actions)
    lead_lines = [lead_line(lead, people, next_activities.get(lead.id), tz) for lead in leads]
    cards = (
        Card(title=title, text=intro, buttons=(capture_button(m),)),
        Card(title="Open action items", text="" if actions else "None open.", facts=action_facts),
        Card(title="Open leads", text="\n".join(lead_lines) or "None open."),
    )
    lines = [title, intro, "Open action items:"]
    lines += [f"  {f.label}: {f.value}" for f in action_facts] or ["  None open."]
    lines += ["Open leads:"] + ([f"  {line}" for line in lead_lines] or ["  None open."])
    return Reply("\n".join(lines), cards=cards)


async def post_to_partnership(cad: Cadence, p: Partnership, organiser: Person, kind: str, record: str,
                              reply: Reply) -> None:
    """Post in every bound channel (Slack and Teams); to the organiser when none is bound."""
    bindings = await cad.store.channels(p.id)
    for binding in bindings:
        await to_channel(cad.store, binding, kind=kind, record_workspace_id=p.workspace_id, record=record,
                         period="-", reply=reply, now=cad.now)
    if not bindings:
        await to_person(cad.store, workspace_id=p.workspace_id, person=organiser, kind=kind, record=record,
                        period="-", reply=reply, now=cad.now)


# --- end and nudges ------------------------------------------------------------------------
def _morning(cad: Cadence, organiser: Person, at: datetime) -> datetime:
    """`at`, or the end of the organiser's night when it falls in it."""
    return outside_quiet_hours(at, cad.tz(organiser), cad.get("cadence.meetings.quiet_from"),
                               cad.get("cadence.meetings.quiet_until"))


def _next_nudge(cad: Cadence, organiser: Person) -> datetime:
    return _morning(cad, organiser, cad.now + timedelta(hours=cad.get("cadence.meetings.nudge_hours")))


async def follow_up(cad: Cadence, m: Meeting) -> bool:
    """The end prompt, or the next nudge, to the organiser; each once (claimed). A nudge that
    falls due in their night (no tick ran in time, or their clock moved) waits for the morning."""
    store = cad.store
    organiser = await store.get_person(m.organiser_id)
    step = m.cadence_step
    if step == "nudge" and (morning := _morning(cad, organiser, cad.now)) > cad.now:
        m.cadence_at = morning
        return False
    period = "-" if step == "end" else str(m.nudges + 1)
    m.cadence_step, m.cadence_at = "nudge", _next_nudge(cad, organiser)
    if step == "nudge":
        m.nudges += 1
    if not await store.claim(f"meeting.{step}:{m.workspace_id}/{mref(m)}:{period}:{organiser.id}", cad.now):
        return False
    actions = [c for c in await store.action_items(m.id) if c.status != "dropped"]
    await to_person(store, workspace_id=m.workspace_id, person=organiser, kind=f"meeting.{step}", record=mref(m),
                    period=period, now=cad.now, reply=_follow_up_message(m, step, actions))
    return True


def _follow_up_message(m: Meeting, step: str, actions: list[Commitment]) -> Reply:
    ref = mref(m)
    buttons = (capture_button(m), Button("Close meeting", f"meeting close {ref}"))
    if actions:
        text = (f"{ref} ({m.purpose}) has {len(actions)} action item(s) but is still open. Close it to post "
                f"the summary: `meeting close {ref}`.")
    elif step == "end":
        text = (f"{ref} ({m.purpose}) has ended. Capture its action items — owner, what, by when — "
                f"then close it: `action {ref} @owner <what> by <date>`, then `meeting close {ref}`.")
    else:
        text = (f"Reminder: {ref} ({m.purpose}) still has no action item with an owner and a due date, "
                f"so it cannot be closed. A meeting without action items is only talk: add one with "
                f"`action {ref} @owner <what> by <date>`.")
    return Reply(text, cards=(Card(title=f"{ref} · {m.purpose}", text=text, buttons=buttons),))


# --- the summary ---------------------------------------------------------------------------
def summary(m: Meeting, p: Partnership, actions: list[Commitment], leads: list[Lead],
            people: dict[int, Person], tz_of) -> Reply:
    """Purpose, who contributed, action items with owners and dates, leads created."""
    ref = mref(m)
    contributors = sorted({people[r.created_by_id].display_name for r in (*actions, *leads)})
    title = f"{ref} closed · {m.purpose}"
    head = (f"Community of practice of P-{p.number} {p.name}. Purpose: {m.purpose}. "
            f"Contributed: {', '.join(contributors) or 'nobody'}.")
    action_facts = tuple(
        Fact(f"C-{c.number} · {people[c.owner_id].display_name}",
             f"{c.what}, due {format_instant(c.due_at, tz_of(people[c.owner_id]))}") for c in actions)
    lead_facts = tuple(Fact(f"L-{lead.number} · {lead.account}",
                            f"{lead.idea} (owner {people[lead.owner_id].display_name})") for lead in leads)
    cards = (Card(title=title, text=head),
             Card(title="Action items", facts=action_facts),
             Card(title="Leads created", text="" if leads else "None.", facts=lead_facts))
    lines = [title, head, "Action items:"] + [f"  {f.label}: {f.value}" for f in action_facts]
    lines += ["Leads created:"] + ([f"  {f.label}: {f.value}" for f in lead_facts] or ["  None."])
    return Reply("\n".join(lines), cards=cards)
