"""The overview is shown "as of" when it was computed: as is for 5 minutes, then shown while it
is computed again in the background, computed on the request when older than an hour or on
"Refresh now"; one set of partnerships shares one snapshot, and nobody sees a snapshot of a set
that is not theirs. Over real HTTP, on the known history of tests/reports/test_report.py."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from handlers.kernel.dates import format_instant
from tests.dashboard.test_dashboard_web import _order, serving
from tests.reports.test_report import REPORT_AT, history


@pytest.fixture
async def server(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url, "https://partnerbot.example.com", platform="slack", workspace="T1") as served:
        yield served


def _leads(page) -> int:
    """How many leads P-1's "Leads" cell says were created ("3 created · 1 of 2 open with …")."""
    [row] = re.findall(r'<tr data-partnership="1"[^>]*>(.*?)</tr>', page.text, re.S)
    cell = html.unescape(dict(re.findall(r'<td data-key="([a-z_]+)">(.*?)</td>', row))["leads"])
    return int(re.match(r"(\d+) created · ", cell).group(1))


def _as_of(page) -> str:
    found = re.search(r'<p id="as-of">Figures as of (.*?)(, kept for a few minutes|; newer ones are being computed)',
                      page.text)
    assert found, page.text
    return html.unescape(found.group(1)) + (" (being computed again)" if found.group(2).startswith(";") else "")


async def test_the_overview_is_kept_as_of_its_time_until_refreshed(server):
    bot = server.team()
    await history(bot)
    session = await server.sign_in("ana")
    first = await server.get("/app/", session)
    assert first.status == 200
    computed = format_instant(REPORT_AT, "UTC")
    assert _as_of(first) == computed and _leads(first) == 3
    refresh_link = re.search(r'<p id="as-of">.*?<a href="([^"]+)">Refresh now</a>', first.text).group(1)
    assert html.unescape(refresh_link) == "?sort=attention&order=desc&refresh=1"

    # a new lead: the kept overview does not show it yet, and says as of when it is
    server.clock.now = REPORT_AT + timedelta(minutes=2)
    assert (await bot.say("ana", "idea Acme: a second analytics pilot", channel="C1")).ok
    kept = await server.get("/app/", session)
    assert (_as_of(kept), _leads(kept)) == (computed, _leads(first))

    # "refresh now" computes it at once
    now = await server.get("/app/?sort=attention&order=desc&refresh=1", session)
    assert _as_of(now) == format_instant(server.clock.now, "UTC") and _leads(now) == 4


async def test_a_stale_overview_is_shown_while_computed_again_and_an_old_one_on_the_request(server):
    bot = server.team()
    await history(bot)
    session = await server.sign_in("ana")
    assert _leads(await server.get("/app/", session)) == 3

    server.clock.now = REPORT_AT + timedelta(minutes=1)
    assert (await bot.say("ana", "idea Acme: a second analytics pilot", channel="C1")).ok
    # 6 minutes on: the page opens at once on the figures it has, and says newer ones are coming
    server.clock.now = REPORT_AT + timedelta(minutes=6)
    page = await server.get("/app/", session)
    assert (_as_of(page), _leads(page)) == (format_instant(REPORT_AT, "UTC") + " (being computed again)", 3)
    await server.bot.overview_snapshots.settle()
    page = await server.get("/app/", session)
    assert (_as_of(page), _leads(page)) == (format_instant(server.clock.now, "UTC"), 4)

    # more than an hour old: computed on the request, as nobody should read figures that old
    assert (await bot.say("ana", "idea Acme: a third pilot", channel="C1")).ok
    later = REPORT_AT + timedelta(minutes=6, hours=1)
    server.clock.now = later
    page = await server.get("/app/", session)
    assert (_as_of(page), _leads(page)) == (format_instant(later, "UTC"), 5)
    # the tick deletes a snapshot a day after anyone last opened it
    assert (await bot.at(later + timedelta(hours=23)))["dashboard overviews nobody looks at"] == 0
    assert (await bot.at(later + timedelta(days=1, minutes=1)))["dashboard overviews nobody looks at"] == 1


async def test_a_snapshot_is_only_ever_shown_for_the_same_partnerships(server):
    bot = server.team()
    await history(bot)
    assert (await bot.say("ana", "partnership new Zeta Ventures with <@zoe|zoe>")).ok
    assert (await bot.say("zoe", "partnership P-2 accept")).ok
    # ana (in both) looks first; bob, a rep of P-1 only, then sees only P-1, and zoe only P-2
    assert _order(await server.get("/app/", await server.sign_in("ana"))) == \
        ["P-1 Acme Alliance", "P-2 Zeta Ventures"]
    assert _order(await server.get("/app/", await server.sign_in("bob"))) == ["P-1 Acme Alliance"]
    assert _order(await server.get("/app/", await server.sign_in("zoe"))) == ["P-2 Zeta Ventures"]
    # when her scope grows (a new partnership), ana sees the new set at once, minutes fresh or not
    assert (await bot.say("ana", "partnership new Omega Labs with <@olga|olga>")).ok
    assert (await bot.say("olga", "partnership P-3 accept")).ok
    assert _order(await server.get("/app/", await server.sign_in("ana"))) == \
        ["P-1 Acme Alliance", "P-3 Omega Labs", "P-2 Zeta Ventures"]
