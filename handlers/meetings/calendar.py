"""Calendar feeds: a meeting series, or a manager's weekly peer sync, as an iCalendar subscription.

`meeting calendar M-n` (or `meeting calendar P-n [series]`) and `sync calendar P-n` answer a
private link PUBLIC_URL/calendar/<token>.ics; `… revoke` ends the caller's links to it. Like an
export link only the token's SHA-256 is kept, but a feed lives until revoked, and it is served
only while its person is still a member of the partnership (still a manager, for a peer sync):
someone who left stops seeing it at the calendar's next refresh. bot/calendar.py serves it.

A feed is one VEVENT with a weekly RRULE on the organiser's clock (TZID and its VTIMEZONE), so
calendars move it across daylight-saving changes exactly as the bot does; EXDATE for the
meetings skipped while the tick was down; a stopped series is CANCELLED, its RRULE ending when it
stopped. Everything is written by the icalendar library: user text is escaped, never spliced.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from handlers.kernel.rules import fire_at_or_after
from storage.models import CalendarFeed, MeetingSeries, Partnership, Person, SyncSeries
from storage.store import Store

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
SYNC_MINUTES = 15  # a peer sync is a prompt to answer, not a meeting: a short block in the calendar
_BYDAY = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}
_PRODID = "-//Partnerbot//Partnerbot calendar feed//EN"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_path(token: str) -> str:
    return f"/calendar/{token}.ics"


async def new_feed(store: Store, person: Person, p: Partnership, series: MeetingSeries | None,
                   now: datetime) -> str:
    """A new link of `person` to a meeting series (None: to their peer sync of `p`); its token."""
    token = secrets.token_urlsafe(32)
    await store.add(CalendarFeed(token_hash=token_hash(token), workspace_id=p.workspace_id, person_id=person.id,
                                 partnership_id=p.id, meeting_series_id=series.id if series else None,
                                 created_at=now))
    return token


@dataclass(frozen=True)
class Feed:
    filename: str
    body: bytes


async def feed(store: Store, token: str, now: datetime, public_url: str) -> Feed | None:
    """The feed a live link stands for, as its holder may still see it; None for anything else
    (malformed, unknown, revoked, its person no longer a member or manager, its series gone)."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    link = await store.live_calendar_feed(token_hash(token))
    if link is None:
        return None
    p = await store.get(Partnership, link.partnership_id)
    members = await store.members(link.partnership_id)
    member = next((m for m in members if m.person_id == link.person_id), None)
    if p is None or member is None:
        return None
    page = f"{public_url}/app/partnerships/{p.id}"
    if link.meeting_series_id is not None:
        series = await store.get(MeetingSeries, link.meeting_series_id)
        if series is None:
            return None
        organiser = await store.get_person(series.organiser_id)
        skipped = _skipped(series, await store.skipped_meeting_starts(p.workspace_id, p.ref))
        return Feed(f"{p.ref}-meetings.ics", meeting_series_ics(series, p, organiser, skipped, now, page))
    if member.role != "manager":
        return None
    sync = await store.sync_series_of(p.id, link.person_id)
    if sync is None:
        return None
    peers = [m.person_id for m in members if m.role == "manager" and m.person_id != link.person_id]
    peer = await store.get_person(peers[0]) if peers else None
    return Feed(f"{p.ref}-peer-sync.ics", peer_sync_ics(sync, p, peer, now, page))


def meeting_series_ics(series: MeetingSeries, p: Partnership, organiser: Person | None, skipped: list[datetime],
                       now: datetime, page: str) -> bytes:
    zone = ZoneInfo(series.timezone)
    first = fire_at_or_after(series.weekday, series.time, series.timezone, series.created_at).astimezone(zone)
    who = organiser.display_name if organiser else "someone"
    description = (f"{series.purpose}\n\nCommunity of practice of {p.ref} {p.name}, organised by {who}. "
                   f"Partnerbot posts each meeting's open action items and leads when it starts, and asks "
                   f"{who} for its action items when it ends.\n{page}")
    event = _weekly_event(f"meeting-series-{series.id}", f"{series.purpose} · {p.ref} {p.name}", description,
                          first, timedelta(minutes=series.minutes), series.weekday, now, page,
                          stopped_at=series.stopped_at)
    for start in sorted(s for s in skipped if s >= first):
        event.add("exdate", start.astimezone(zone))
    return _calendar(f"{series.purpose} · {p.ref}", event)


def peer_sync_ics(sync: SyncSeries, p: Partnership, peer: Person | None, now: datetime, page: str) -> bytes:
    since = p.accepted_at or p.created_at
    first = fire_at_or_after(sync.weekday, sync.time, sync.timezone, since).astimezone(ZoneInfo(sync.timezone))
    with_whom = f" with {peer.display_name}" if peer else ""
    description = (f"Your weekly peer sync{with_whom} for {p.ref} {p.name}: Partnerbot asks you its three questions "
                   f"now; answer them in the chat (`sync answer S-n`).\n{page}")
    ended = p.status == "declined"
    event = _weekly_event(f"peer-sync-{p.id}-{sync.person_id}", f"Peer sync{with_whom} · {p.ref} {p.name}",
                          description, first, timedelta(minutes=SYNC_MINUTES), sync.weekday, now, page,
                          stopped_at=now if ended else None)
    return _calendar(f"Peer sync · {p.ref}", event)


def _weekly_event(uid: str, summary: str, description: str, first: datetime, duration: timedelta, weekday: str,
                  now: datetime, page: str, *, stopped_at: datetime | None) -> Event:
    event = Event()
    event.add("uid", f"{uid}@partnerbot")
    event.add("dtstamp", now)
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", page)
    event.add("dtstart", first)
    event.add("duration", duration)
    rule = {"freq": "weekly", "byday": _BYDAY[weekday]}
    if stopped_at is not None:
        rule["until"] = stopped_at.astimezone(ZoneInfo("UTC"))
    event.add("rrule", rule)
    # a calendar updates an event it has when SEQUENCE grows: stopping it is the one change made
    event.add("sequence", 1 if stopped_at is not None else 0)
    event.add("status", "CANCELLED" if stopped_at is not None else "CONFIRMED")
    return event


def _calendar(name: str, event: Event) -> bytes:
    cal = Calendar()
    cal.add("prodid", _PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add_component(event)
    cal.add_missing_timezones()  # the VTIMEZONE of the organiser's TZID
    return cal.to_ical()


def _skipped(series: MeetingSeries, logged: list[dict]) -> list[datetime]:
    """The starts of `series` the log says were skipped (entries before series ids were logged
    are matched by the series' purpose)."""
    starts = []
    for entry in logged:
        mine = entry.get("series_id") == series.id or ("series_id" not in entry
                                                       and entry.get("purpose") == series.purpose)
        if mine:
            starts += [datetime.fromisoformat(at) for at in entry.get("starts_at", ())]
    return starts
