"""Calendar feeds over real HTTP: `meeting calendar` / `sync calendar` answer a private link, and
`partnerbot serve`'s app serves it as iCalendar. A feed parsed by `icalendar` and expanded by
`recurring-ical-events` (as a calendar client does) gives exactly the meetings the bot starts,
for a year across both daylight-saving changes, in Berlin and in New York; skipped meetings are
EXDATEs; a stopped series is CANCELLED; every refusal leaves nothing behind."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import icalendar
import pytest
import recurring_ical_events

from storage.models import CalendarFeed, Meeting, MeetingSeries
from tests.conftest import Chat
from tests.dashboard.test_dashboard_web import serving
from tests.helpers import assert_refused_without_change, rows

UTC = timezone.utc
PUBLIC_URL = "https://partnerbot.example.com"
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/calendar/[A-Za-z0-9_-]{43}\.ics)")


@pytest.fixture
async def server(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url, PUBLIC_URL) as served:
        served.clock.now = START
        yield served


async def partnership(team, organiser_tz: str = "Europe/Berlin") -> None:
    assert (await team.say("ana", f"timezone {organiser_tz}")).ok
    assert (await team.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await team.say("dana", "partnership P-1 accept")).ok
    assert (await team.say("ana", "partnership P-1 add <@maria|maria>")).ok
    assert (await team.say("maria", "partnership P-1 accept")).ok


async def link(team, user: str, command: str) -> str:
    reply = await team.say(user, command)
    assert reply.ok, reply.text
    found = LINK.search(reply.text)
    assert found, reply.text
    return found.group(1)


async def calendar(server, path: str) -> icalendar.Calendar:
    page = await server.get(path)
    assert page.status == 200, page.text
    assert page.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(page.text)


def starts(cal: icalendar.Calendar, since: datetime, until: datetime) -> list[datetime]:
    return sorted(e["DTSTART"].dt.astimezone(UTC) for e in recurring_ical_events.of(cal).between(since, until))


async def bots_own_meetings(server, team, until: datetime) -> list[datetime]:
    """Run the tick at each start the series itself schedules, up to `until`: the meetings it starts."""
    while True:
        [series] = await rows(server.bot.db, MeetingSeries)
        if series.next_start_at > until:
            break
        await team.at(series.next_start_at + timedelta(minutes=1))
    return sorted(m.starts_at for m in await rows(server.bot.db, Meeting))


@pytest.mark.parametrize("tz, slot", [("Europe/Berlin", "tue 15:00"), ("America/New_York", "mon 08:30")])
async def test_a_years_feed_is_the_bots_own_schedule_across_daylight_saving(server, tz, slot):
    team = server.team()
    await partnership(team, tz)
    assert (await team.say("ana", f'meeting new P-1 "Brainstorm new business" every {slot} for 45m',
                           channel="C1")).ok
    path = await link(team, "maria", "meeting calendar P-1")  # a member; before its first meeting
    cal = await calendar(server, path)
    [event] = cal.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == tz and event["RRULE"]["FREQ"] == ["WEEKLY"]
    assert [t["TZID"] for t in cal.walk("VTIMEZONE")] == [tz]
    assert event["DURATION"].dt == timedelta(minutes=45) and event["STATUS"] == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Brainstorm new business · P-1 Acme Alliance"

    year = START + timedelta(days=365)
    held = await bots_own_meetings(server, team, year)
    assert len(held) == 52
    # both clock changes of the year are in it, and each meeting stays at its local time
    assert len({(t.astimezone(UTC).hour, t.astimezone(UTC).minute) for t in held}) == 2
    assert starts(cal, START, year) == held
    # the same link, fetched again a year on, still says the same
    assert starts(await calendar(server, path), START, year) == held


async def test_skipped_meetings_are_left_out_and_a_stopped_series_is_cancelled(server):
    team = server.team()
    await partnership(team)
    assert (await team.say("ana", 'meeting new P-1 "Brainstorm" every tue 15:00 for 45m', channel="C1")).ok
    first = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tue 15:00 in Berlin
    await team.at(first + timedelta(minutes=1))  # M-1
    # the tick is down for two weeks: 1 and 8 Dec are skipped (and logged), 15 Dec is held
    await team.at(first + timedelta(weeks=3, minutes=1))
    path = await link(team, "ana", "meeting calendar M-1")
    cal = await calendar(server, path)
    [event] = cal.walk("VEVENT")
    exdates = sorted(d.dt.astimezone(UTC) for prop in event.get("EXDATE") or [] for d in prop.dts)
    assert exdates == [first + timedelta(weeks=1), first + timedelta(weeks=2)]
    assert starts(cal, first, first + timedelta(weeks=4)) == [first, first + timedelta(weeks=3)]

    server.clock.now = first + timedelta(weeks=3, hours=2)
    assert (await team.say("ana", "meeting stop M-1")).ok
    [event] = (await calendar(server, path)).walk("VEVENT")
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
    assert event["RRULE"]["UNTIL"][0] == server.clock.now
    assert starts(await calendar(server, path), first, first + timedelta(weeks=8)) == [first, first + timedelta(weeks=3)]


async def test_user_text_is_escaped_never_spliced(server):
    team = server.team()
    await partnership(team)
    purpose = "Q1; plan, \\ review: BEGIN:VEVENT"
    assert (await team.say("ana", f'meeting new P-1 "{purpose}" every tue 15:00', channel="C1")).ok
    cal = await calendar(server, await link(team, "ana", "meeting calendar P-1"))
    [event] = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == f"{purpose} · P-1 Acme Alliance"
    assert str(event["DESCRIPTION"]).startswith(purpose + "\n") and str(event["URL"]).endswith("/app/partnerships/1")


async def test_a_manager_has_their_own_peer_sync_prompt_in_their_calendar(server):
    team = server.team()
    await partnership(team)
    await team.say("dana", "timezone America/New_York")
    path = await link(team, "dana", "sync calendar P-1")
    [event] = (await calendar(server, path)).walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert str(event["SUMMARY"]) == "Peer sync with ana · P-1 Acme Alliance"
    [prompt] = starts(await calendar(server, path), START, START + timedelta(days=7))
    from storage.models import SyncSeries
    [dana_sync] = [s for s in await rows(server.bot.db, SyncSeries) if s.timezone == "America/New_York"]
    assert prompt == dana_sync.next_run_at
    await assert_refused_without_change(team.chat, server.bot.db, "maria", "sync calendar P-1",
                                        "Only the two managers of P-1")
    assert (await team.say("dana", "sync calendar P-1 revoke")).ok
    assert (await server.get(path)).status == 404


async def test_refusals_change_nothing_and_a_dead_link_is_a_plain_404(server):
    team = server.team()
    await partnership(team)
    assert (await team.say("ana", 'meeting new P-1 "Brainstorm" every tue 15:00', channel="C1")).ok
    db = server.bot.db
    for user, command, reason in (
            ("ana", "meeting calendar", "Say which meeting series"),
            ("ana", "meeting calendar X-1", "not 'X-1'"),
            ("ana", "meeting calendar M-9", "There is no meeting M-9"),
            ("ana", "meeting calendar P-1 7", "has no meeting series '7'"),
            ("eve", "meeting calendar P-1", "P-1"),  # not a member
            ("ana", "meeting calendar P-1 revoke", "You have no calendar link"),
    ):
        await assert_refused_without_change(team.chat, db, user, command, reason)
    # in a Teams channel the link would be seen by everyone: refused there, given in a direct chat
    teams = Chat(team.chat.dispatcher, platform="teams", workspace="tenant-1")
    await teams.say("tom", "partnership new Globex with <@tina|tina>", channel="19:c@thread.tacv2")
    await teams.say("tina", "partnership P-1 accept")
    await teams.say("tom", 'meeting new P-1 "Sync" every wed 10:00', channel="19:c@thread.tacv2")
    await assert_refused_without_change(teams, db, "tom", "meeting calendar P-1", "in a direct chat with me")
    assert LINK.search((await teams.say("tom", "meeting calendar P-1", channel="a:1", is_direct=True)).text)

    path = await link(team, "maria", "meeting calendar P-1")
    assert (await server.get(path)).status == 200
    for wrong in ("/calendar/nope.ics", path.replace(path[10:15], "aaaaa"), "/calendar/" + "A" * 43 + ".ics"):
        assert (await server.get(wrong)).status == 404
    # someone who left the partnership stops seeing it at the calendar's next poll
    assert (await team.say("ana", "partnership P-1 remove <@maria|maria>")).ok
    page = await server.get(path)
    assert page.status == 404 and "No calendar here" in page.text
    # revoking ends every link of the caller to that series, and only theirs
    mine, again = await link(team, "ana", "meeting calendar P-1"), await link(team, "ana", "meeting calendar P-1")
    dana = await link(team, "dana", "meeting calendar P-1")
    assert "links to series 1 of P-1" in (await team.say("ana", "meeting calendar P-1 revoke")).text
    assert [(await server.get(p)).status for p in (mine, again, dana)] == [404, 404, 200]
    assert len([f for f in await rows(db, CalendarFeed) if f.revoked_at is not None]) == 2
