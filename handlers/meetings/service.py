"""Community-of-practice meetings (M-n): the start of each occurrence, the follow-up of its
organiser until it is closed, its action items, and where it is posted.

A series fires at its weekday and time on the organiser's clock (CronTrigger, DST-aware,
as the peer sync). Each start creates the occurrence M-n and posts its purpose, the open
action items and leads of the series in the partnership's bound channels. At the end the
organiser is asked for action items; until the meeting is closed they are nudged every
`cadence.meetings.nudge_hours`, never in their night. Starts the tick missed (it was down) are
coalesced: only the latest happens, and only while that meeting is on; the others are logged.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from handlers.commitments import service as commitments
from handlers.kernel.context import Context, JobContext
from handlers.kernel.dates import parse_date
from handlers.kernel.errors import UserError
from handlers.kernel.model import Mention, Reply
from handlers.kernel.outbound import key, to_channel, to_person
from handlers.kernel.rules import fires_before, follow_clock, latest_fire_not_after, next_fire, outside_quiet_hours
from handlers.kernel.text import lead_line
from handlers.meetings import calendar
from handlers.meetings.messages import action_facts, follow_up_message, start_post
from handlers.partnerships import policy
from storage.models import Commitment, Meeting, MeetingSeries, Partnership, Person
from storage.store import Store


async def follow_timezone(store: Store, person_id: int, tz: str, now: datetime) -> None:
    """An organiser's clock changed: their series start at their time on the new clock."""
    for series in await store.meeting_series_of_person(person_id):
        follow_clock(series, "next_start_at", tz, now)


async def find_meeting(ctx: Context, token: str) -> Meeting:
    """M-n as the caller means it (see Store.meeting_for); refused when there is none."""
    m = await ctx.store.meeting_for(ctx.workspace.id, ctx.ref_number(token, "M", "meeting"), ctx.caller.id,
                                    ctx.channel)
    if m is None:
        raise UserError(f"There is no meeting {token.upper()} here.")
    return m


# --- start ---------------------------------------------------------------------------------
async def start_meeting(cad: JobContext, series: MeetingSeries) -> Meeting | None:
    """The occurrence due now, once; None when another tick or process made it first."""
    store = cad.store
    organiser = await store.get_person(series.organiser_id)
    tz = cad.timezone_of(organiser)
    if tz != series.timezone:  # the organiser's clock changed by a way that did not move the series
        follow_clock(series, "next_start_at", tz, cad.now)
        if series.next_start_at > cad.now:
            return None
    # the latest start due, if that meeting is still on (after downtime only it: nobody wants
    # last month's meetings); the starts skipped are logged
    owed, starts = series.next_start_at, latest_fire_not_after(series.weekday, series.time, tz, cad.now)
    series.next_start_at = next_fire(series.weekday, series.time, tz, starts)
    ends = starts + timedelta(minutes=series.minutes)
    skipped = fires_before(series.weekday, series.time, tz, owed, starts) + ([starts] if ends <= cad.now else [])
    if skipped and not await _skip_missed(cad, series, skipped):
        return None  # another process ran it a moment ago
    if ends <= cad.now or not await store.claim(
            key("meeting.start", series.workspace_id, f"series-{series.id}", starts.isoformat()), cad.now):
        return None
    m = Meeting(workspace_id=series.workspace_id, number=await store.next_number(series.workspace_id, Meeting.KIND),
                series_id=series.id, partnership_id=series.partnership_id, organiser_id=organiser.id,
                purpose=series.purpose, starts_at=starts, ends_at=ends, cadence_at=ends, cadence_step="end")
    await store.add(m)
    await cad.log("meeting.started", m.ref, workspace_id=m.workspace_id,
                  after={"purpose": m.purpose, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})
    p = await store.get(Partnership, m.partnership_id)
    await post_to_partnership(cad, p, organiser, "meeting.start", m.ref, await _start_post(cad, series, m, p, tz))
    return m


SKIPPED = "meeting starts skipped"  # what the tick's summary calls a missed meeting not started


async def _skip_missed(cad: JobContext, series: MeetingSeries, starts: list[datetime]) -> bool:
    """Log, once, the meetings of `series` not started because they ended before the tick ran;
    False when another process did it a moment ago."""
    if not await cad.store.claim(key("meeting.skip", series.workspace_id, f"series-{series.id}",
                                     starts[-1].isoformat()), cad.now):
        return False
    p = await cad.store.get(Partnership, series.partnership_id)
    await cad.log("meeting.skipped", p.ref, workspace_id=p.workspace_id,
                  after={"purpose": series.purpose, "series_id": series.id,
                         "starts_at": [at.isoformat() for at in starts], "reason": "ended before the tick ran"})
    cad.count(SKIPPED, len(starts))
    return True


async def _start_post(cad: JobContext, series: MeetingSeries, m: Meeting, p: Partnership, tz: str) -> Reply:
    store = cad.store
    actions = await store.open_action_items_of_series(series.id)
    leads = await store.open_leads_of_series(series.id)
    people = await store.people({c.owner_id for c in actions} | {lead.owner_id for lead in leads})
    next_activities = await store.next_activities([lead.id for lead in leads])
    post = start_post(m, p, tz, action_facts(actions, people, cad.timezone_of),
                      [lead_line(lead, people, next_activities.get(lead.id), tz) for lead in leads])
    # the people with something to report (an open action item or lead) are notified it starts
    reporting = sorted(people.values(), key=lambda person: person.display_name.casefold())
    return replace(post, mentions=tuple(Mention(person.display_name, person.id) for person in reporting))


async def post_to_partnership(ctx: JobContext | Context, p: Partnership, organiser: Person, kind: str, record: str,
                              reply: Reply) -> None:
    """Post in every bound channel (Slack and Teams); to the organiser when none is bound."""
    bindings = await ctx.store.channels(p.id)
    for binding in bindings:
        await to_channel(ctx.store, binding, kind=kind, record_workspace_id=p.workspace_id, record=record,
                         period="-", reply=reply, now=ctx.now)
    if not bindings:
        await to_person(ctx.store, workspace_id=p.workspace_id, person=organiser, kind=kind, record=record,
                        period="-", reply=reply, now=ctx.now)


# --- end and nudges ------------------------------------------------------------------------
def _morning(cad: JobContext, organiser: Person, at: datetime) -> datetime:
    """`at`, or the end of the organiser's night when it falls in it."""
    rule = cad.settings.cadence.meetings
    return outside_quiet_hours(at, cad.timezone_of(organiser), rule.quiet_from, rule.quiet_until)


def _next_nudge(cad: JobContext, organiser: Person) -> datetime:
    return _morning(cad, organiser, cad.now + timedelta(hours=cad.settings.cadence.meetings.nudge_hours))


async def follow_up(cad: JobContext, m: Meeting) -> bool:
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
    if not await store.claim(key(f"meeting.{step}", m.workspace_id, m.ref, period, organiser.id), cad.now):
        return False
    actions = [c for c in await store.action_items(m.id) if c.status != "dropped"]
    await to_person(store, workspace_id=m.workspace_id, person=organiser, kind=f"meeting.{step}", record=m.ref,
                    period=period, now=cad.now, reply=follow_up_message(m, step, actions))
    return True


# --- action items --------------------------------------------------------------------------
async def add_action_item(ctx: Context, m: Meeting, owner: Person, what: str, date_phrase: str) -> Commitment:
    """A commitment of the meeting, numbered in its workspace; for someone else only by whoever runs it."""
    if owner.id != ctx.caller.id and not await policy.runs_meeting(ctx, m):
        raise UserError(f"Only the organiser of {m.ref} or a manager of its partnership gives action items "
                        f"to others; you can take one yourself.")
    return await commitments.create(ctx, owner, what, due_date=parse_date(date_phrase, ctx.today),
                                    workspace_id=m.workspace_id, meeting_id=m.id)


# --- calendar feeds (calendar.py): also the peer sync's, for its managers ----------------------
async def calendar_link(ctx: Context, p: Partnership, series: MeetingSeries | None, what: str, revoke: str) -> Reply:
    """A new private feed of `series` (None: the caller's peer sync of `p`) for the caller, who
    may see it (the verbs checked); `what` names it, `revoke` is the command that ends it."""
    policy.require_private(ctx, f"Ask for the calendar link of {what} in a direct chat with me: here everyone in "
                                f"the conversation would see it.")
    token = await calendar.new_feed(ctx.store, ctx.caller, p, series, ctx.now)
    await ctx.log("calendar.link_created", p.ref, after={"series_id": series.id if series else None,
                                                          "feed": "meetings" if series else "peer sync"},
                  workspace_id=p.workspace_id)
    url = ctx.settings.public_url + calendar.feed_path(token)
    return Reply(f"Your private calendar link to {what}: {url}\nAdd it to your calendar as a subscription (Google "
                 f"Calendar: Other calendars → From URL; Outlook: Add calendar → Subscribe from web). It follows "
                 f"the series as it changes, served by `partnerbot serve`. Keep it to yourself: anyone with it "
                 f"sees the series. `{revoke}` ends it.")


async def revoke_calendar_links(ctx: Context, p: Partnership, series: MeetingSeries | None, what: str) -> Reply:
    ended = await ctx.store.revoke_calendar_feeds(ctx.caller.id, p.id, series.id if series else None, ctx.now)
    if not ended:
        raise UserError(f"You have no calendar link to {what}.")
    await ctx.log("calendar.link_revoked", p.ref, after={"series_id": series.id if series else None,
                                                          "links": ended}, workspace_id=p.workspace_id)
    return Reply(f"Your calendar link{'s' if ended > 1 else ''} to {what} no longer work{'' if ended > 1 else 's'}: "
                 f"calendars subscribed to {'them' if ended > 1 else 'it'} stop updating.")
