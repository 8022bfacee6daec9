"""The dashboard's pages in headless Chromium, on the known history of tests/reports/test_report.py
typed in Slack workspace T1, where nobody is an admin (the console's user is one, and an admin sees
the whole workspace): a manager's overview, partnership and own page with their charts and the
very figures of `report`; what a rep may not open; what an executive sees that a manager does not;
the credit report and its CSV, which adds up to each win's amount.

P-1 Acme Alliance: side A ana (manager; bob and leo report to her, having joined her side), bob,
leo; side B dana (manager; maria reports to her), maria. P-2 Beta Pact, added here: carl and dora,
managers nobody of P-1 reports to. vera is an executive (setting `executives`).
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from urllib.parse import urljoin

import aiohttp

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from handlers.pulse.service import DIMENSIONS
from handlers.reports.overview import COLUMNS, TRENDS
from storage.models import Partnership
from tests.conftest import Chat, FixedClock
from tests.dashboard.test_dashboard_web import COOKIE, Served
from tests.helpers import Clocked, person_named, rows
from tests.reports.test_export import loopback
from tests.reports.test_report import history

SPARKLINE = set("▁▂▃▄▅▆▇█·")
EXECUTIVE = "slack:T1:vera"
PERIOD = "from=2026-10-01&to=2026-12-31"  # the history's wins: H-1 (3 Dec), L-1 (14 Dec); H-4 (21 Dec) added


@asynccontextmanager
async def serving(database_url: str, **settings: str) -> AsyncIterator[Served]:
    """tests/dashboard/test_dashboard_web.serving, with settings of the test's own (as from the environment)."""
    clock = FixedClock()
    public_url = "http://127.0.0.1"
    bot = Partnerbot(load_settings({"DATABASE_URL": database_url, "PUBLIC_URL": public_url, **settings}), clock)
    await bot.upgrade()
    async with loopback(build_web_app(bot)) as url, aiohttp.ClientSession() as http:
        yield Served(url, bot, clock, http, public_url)


def slack_team(server: Served) -> Clocked:
    """The history's people typing in Slack workspace T1 on the server's clock: no admin among them."""
    team = Clocked(server.bot.db, server.bot.settings, server.clock)
    team.chat = Chat(server.bot.dispatcher, platform="slack", workspace="T1")
    return team


async def the_history_and_p2(team: Clocked) -> None:
    """The known history, then P-2 Beta Pact between carl and dora (accepted), nothing in it yet."""
    await history(team)
    for user, text, kw in (("carl", "partnership new Beta Pact with <@dora|dora>", {"channel": "C2"}),
                           ("dora", "partnership P-2 accept", {})):
        reply = await team.say(user, text, **kw)
        assert reply.ok, reply.text


async def link(server: Served, team: Clocked, user: str) -> str:
    """The path of the sign-in link `dashboard` answers `user` in Slack."""
    reply = await team.say(user, "dashboard")
    assert reply.ok, reply.text
    found = re.search(re.escape(server.public_url) + r"(/app/signin/[A-Za-z0-9_-]{43})", reply.text)
    assert found, reply.text
    return found.group(1)


async def sign_in(browser, server: Served, team: Clocked, user: str) -> str:
    """Open `user`'s sign-in link in the browser: they land on the overview. The link's path."""
    path = await link(server, team, user)
    await browser.open(server.url + path)
    assert (await browser.url()).endswith("/app/")
    assert await browser.status_of_last_page() == 200, await browser.text()
    return path


async def partnership_id(server: Served, name: str) -> int:
    (p,) = await rows(server.bot.db, Partnership, Partnership.name == name)
    return p.id


async def person_id(server: Served, name: str) -> int:
    return (await person_named(server.bot.db, name)).id


def without_sparkline(value: str) -> str:
    head, _, last = value.rpartition(" ")
    return head if head and set(last) <= SPARKLINE else value


async def said(team: Clocked, user: str, command: str) -> list[tuple[str, str]]:
    """(label, value) of each figure of the reply's scorecard card, as the chat shows it."""
    reply = await team.say(user, command)
    assert reply.ok, reply.text
    return [(f.label, f.value) for f in reply.cards[0].facts]


async def nav(browser) -> dict[str, str]:
    """The page's navigation links: text -> href."""
    return {a.text.strip(): a.attributes.get("href", "") for a in await browser.find_all("nav a")}


async def follow(browser, href: str) -> None:
    await browser.open(urljoin(await browser.url(), href))


async def overview_rows(browser) -> list[str]:
    """The overview's rows, top to bottom: the data-partnership of each."""
    return [row.attributes["data-partnership"] for row in await browser.find_all("table#overview tr[data-partnership]")]


async def status_at(browser, server: Served, path: str) -> int | None:
    await browser.open(server.url + path)
    return await browser.status_of_last_page()


async def assert_drawn(browser, css: str, count: int) -> list:
    """`count` charts under `css`, each drawn (a box on the page) with a mark of its first serie (a
    bar, a dot, a line: the data's, not "no data"'s) that has a size. Their <desc>s, in order."""
    charts = [svg for svg in await browser.find_all(css) if svg.width > 0 and svg.height > 0]
    assert len(charts) == count, (css, len(charts))
    for chart in charts:
        data = f'svg[aria-labelledby="{chart.attributes["aria-labelledby"]}"] .series.serie-0'
        marks = await browser.find_all(f"{data} rect, {data} circle, {data} path")
        assert any(mark.width > 0 and mark.height > 0 for mark in marks), (css, chart.attributes, marks)
    return await browser.find_all(f"{css} > desc")


# --- 1. a manager ------------------------------------------------------------------------------
async def test_a_manager_sees_her_partnership_its_page_and_her_reports_coaching(browser, schema_url, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url) as server:
        team = slack_team(server)
        await history(team)
        p1, ana, bob, leo = (await partnership_id(server, "Acme Alliance"), await person_id(server, "ana"),
                             await person_id(server, "bob"), await person_id(server, "leo"))
        # bob and leo report to ana: they joined her side of P-1
        assert {(await person_named(server.bot.db, n)).manager_id for n in ("bob", "leo")} == {ana}
        report_p1 = await team.say("ana", "report P-1")
        p1_said = [(f.label, f.value) for f in report_p1.cards[0].facts]
        p1_text = {label: without_sparkline(value) for label, value in p1_said}

        await sign_in(browser, server, team, "ana")
        links = await nav(browser)
        assert set(links) == {"Partnerships", "My scorecard", "Leaders", "Credit", "Sign out"}, links
        assert links["My scorecard"].endswith(f"/app/people/{ana}")
        # the overview: P-1's row says what `report P-1` says
        assert await overview_rows(browser) == [str(p1)]
        row = f'table#overview tr[data-partnership="{p1}"]'
        [name] = await browser.find_all(f"{row} > :first-child a")
        assert name.text.strip() == "P-1 Acme Alliance" and name.attributes["href"].endswith(f"/app/partnerships/{p1}")
        for key, label in COLUMNS:
            [cell] = await browser.find_all(f'{row} td[data-key="{key}"]')
            assert cell.text.strip() == p1_text[label], (key, cell.text, p1_text[label])
        [health] = await browser.find_all(f"{row} td.health")
        # November's pulse: the mean of side A's five averages (4.7, 4, 4, 4, 4); B's two answers withheld, as in the chat
        assert health.text.strip() == "A 4.1 · B too few answers to show (2 of 2)"
        [attention] = await browser.find_all(f"{row} td.attention")
        assert "1 peer sync skipped" in attention.text and "2 overdue" in attention.text  # S-2; C-4 and C-8
        # a 12-week trend per figure, each drawn with its data
        descs = await assert_drawn(browser, "section#trends svg", len(TRENDS))
        assert [t.text for t in await browser.find_all("section#trends svg > title[id]")] == list(TRENDS)
        for label, desc in zip(TRENDS, descs, strict=True):  # each says its 12 weeks' values in words
            assert desc.text.startswith(f"{label}, ") and "Week by week, oldest first — 28 Sep: " in desc.text, desc
        await browser.screenshot("1-overview-of-ana")
        # every column sorts, either way, and keeps the one row
        sorts = [th.attributes["href"] for th in await browser.find_all("table#overview thead th a")]
        assert {re.search(r"sort=(\w+)", href).group(1) for href in sorts} >= {key for key, _ in COLUMNS}
        overview_url = await browser.url()
        for href in sorts:
            await browser.open(urljoin(overview_url, href))
            assert await browser.status_of_last_page() == 200, href
            assert await overview_rows(browser) == [str(p1)], href
        await browser.screenshot("1-overview-sorted")

        # the partnership page, from the row's link
        await browser.open(overview_url)
        await follow(browser, name.attributes["href"])
        assert await browser.status_of_last_page() == 200
        for section in ("charter", "members", "figures", "funnels", "syncs", "meetings", "leads", "pulse", "open"):
            assert len(await browser.find_all(f"section#{section}")) == 1, section
        labels = [h.text for h in await browser.find_all("section#figures section.figure h2")]
        values = [p.text for p in await browser.find_all("section#figures section.figure p.value")]
        assert list(zip(labels, values)) == list(p1_text.items())
        trending = [label for label, value in p1_said if without_sparkline(value) != value]  # those with a sparkline
        await assert_drawn(browser, "section#figures svg", len(trending))
        assert [t.text for t in await browser.find_all("section#figures svg > title[id]")] == trending
        # the funnel each way: A → B has H-1 won, H-3 identified, H-5 declined; B → A H-2 introduced, H-4 positioned
        a_to_b, b_to_a = [d.text for d in await assert_drawn(browser, "section#funnels svg", 2)]
        assert "identified: 1; positioned: 0; introduced: 0; delivered: 0; won: 1; lost: 0; declined: 1" in a_to_b
        assert "identified: 0; positioned: 1; introduced: 1; delivered: 0; won: 0; lost: 0; declined: 0" in b_to_a
        # the pulse: a chart per dimension, side A's averages drawn (side B's two answers withheld)
        pulse = await assert_drawn(browser, "section#pulse svg", len(DIMENSIONS))
        assert pulse[0].text.startswith("Shared risk") and "November 2026: side A 4.7, side B no data" in pulse[0].text
        assert all("November 2026: side A 4, side B no data" in d.text for d in pulse[1:]), pulse
        syncs = [r.text for r in await browser.find_all("section#syncs tbody tr")]
        assert any("S-1" in r and "both" in r for r in syncs) and any("S-2" in r and "one-sided" in r for r in syncs)
        leads = {r.text.split()[0]: r.text for r in await browser.find_all("section#leads tbody tr")}
        assert set(leads) == {"L-1", "L-2", "L-3"} and "C-13" in leads["L-2"], leads
        meetings = (await browser.find_all("section#meetings"))[0].text
        assert "M-1" in meetings and "C-2" in meetings and "M-2" in meetings
        members = (await browser.find_all("section#members"))[0].text
        assert all(n in members for n in ("ana", "bob", "leo", "dana", "maria"))
        opened = [li.text for li in await browser.find_all("section#open ul li")]
        assert any(li.startswith("C-4 share the pipeline") for li in opened), opened
        await browser.screenshot("1-partnership-P-1")
        page = await browser.url()
        for section in ("figures", "funnels", "pulse", "syncs"):  # a screenshot shows the window: go to each
            await browser.open(f"{page}#{section}")
            await browser.screenshot(f"1-partnership-P-1-{section}")

        # her own page: `report`'s figures, and the coaching of bob and leo
        ana_said = await said(team, "ana", "report")
        await follow(browser, links["My scorecard"])
        assert await browser.status_of_last_page() == 200
        labels = [h.text for h in await browser.find_all("section.figure h2")]
        values = [p.text for p in await browser.find_all("section.figure p.value")]
        assert list(zip(labels, values)) == [(label, without_sparkline(value)) for label, value in ana_said]
        await assert_drawn(browser, "section.figure svg", len(ana_said))
        coaching = await browser.find_all("section#coaching article.coaching")
        assert len(coaching) == 2 and "bob" in coaching[0].text and "leo" in coaching[1].text, coaching
        # bob is in P-1 alone: his coaching there is the chat's coaching card of him in `report P-1`
        [bob_card] = [c for c in report_p1.cards[1:] if c.title.startswith("Coaching · bob")]
        for fact in bob_card.facts:
            assert fact.value in coaching[0].text, (fact, coaching[0].text)
        assert "none in 4 weeks" in coaching[1].text
        await browser.screenshot("1-person-ana")
        await browser.open(await browser.url() + "#coaching")
        await browser.screenshot("1-person-ana-coaching")
        # and a report's page, from her scope (he is below her)
        assert await status_at(browser, server, f"/app/people/{bob}") == 200
        assert await status_at(browser, server, f"/app/people/{leo}") == 200
        await browser.screenshot("1-person-bob-seen-by-ana")

        # the overview is kept "as of" when it was computed; its "Refresh now" computes it again
        assert (await team.say("ana", "idea Acme: a second analytics pilot", channel="C1")).ok
        await browser.open(overview_url)
        [as_of] = await browser.find_all("p#as-of")
        assert as_of.text.startswith("Figures as of Mon 21 Dec 10:00 (UTC), kept for a few minutes"), as_of.text
        [leads_cell] = await browser.find_all(f'{row} td[data-key="leads"]')
        assert leads_cell.text.strip() == p1_text["Leads"]
        [refresh] = await browser.find_all("p#as-of a")
        assert refresh.text.strip() == "Refresh now"
        await follow(browser, refresh.attributes["href"])
        assert await browser.status_of_last_page() == 200
        now_said = {label: without_sparkline(value) for label, value in await said(team, "ana", "report P-1")}
        [leads_cell] = await browser.find_all(f'{row} td[data-key="leads"]')
        assert leads_cell.text.strip() == now_said["Leads"] != p1_text["Leads"]
        await browser.screenshot("1-overview-refreshed")


# --- 2. a rep ----------------------------------------------------------------------------------
async def test_a_rep_sees_only_his_partnership_and_his_own_page(browser, schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with serving(schema_url) as server:
        team = slack_team(server)
        await the_history_and_p2(team)
        p1, p2 = await partnership_id(server, "Acme Alliance"), await partnership_id(server, "Beta Pact")
        ana, bob = await person_id(server, "ana"), await person_id(server, "bob")

        used = await sign_in(browser, server, team, "bob")
        assert await overview_rows(browser) == [str(p1)]  # not P-2
        links = await nav(browser)
        assert set(links) == {"Partnerships", "My scorecard", "Sign out"}, links
        assert links["My scorecard"].endswith(f"/app/people/{bob}")
        await browser.screenshot("2-overview-of-bob")
        await follow(browser, links["My scorecard"])
        assert await browser.status_of_last_page() == 200
        assert not await browser.find_all("section#coaching")  # nobody reports to him
        await browser.screenshot("2-person-bob")
        assert await status_at(browser, server, f"/app/partnerships/{p1}") == 200
        await browser.screenshot("2-partnership-P-1-seen-by-bob")
        # his manager ana is a member of P-1, but her page is not his to see: her name there is no
        # link, and her page's address, typed in, is a 404 with a way back
        linked = {a.text.strip() for a in await browser.find_all("section#members a")}
        assert "bob" in linked and "ana" not in linked
        assert await status_at(browser, server, f"/app/people/{ana}") == 404
        assert "Not found" in await browser.text()
        [back] = await browser.find_all("a")
        assert back.attributes["href"] == "/app/"
        await browser.screenshot("2-person-ana-refused-to-bob")

        # out of his scope too: P-2, the leaders, the credit report, and what does not exist
        for path in (f"/app/partnerships/{p2}", "/app/leaders", f"/app/credit?{PERIOD}", f"/app/credit.csv?{PERIOD}",
                     "/app/people/999999", "/app/partnerships/999999"):
            assert await status_at(browser, server, path) == 404, path
            assert "Not found" in await browser.text(), path

        # the link he used is refused; after signing out, every page is
        assert await status_at(browser, server, used) == 404
        await browser.screenshot("2-used-link-refused")
        assert await status_at(browser, server, "/app/logout") == 200
        assert "Signed out" in await browser.text()
        for path in ("/app/", f"/app/people/{bob}", f"/app/partnerships/{p1}"):
            assert await status_at(browser, server, path) == 404, path
        await browser.screenshot("2-signed-out")


# --- 3. an executive ---------------------------------------------------------------------------
async def test_an_executive_sees_a_partnership_the_manager_does_not(browser, schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with serving(schema_url, PARTNERBOT_EXECUTIVES=EXECUTIVE) as server:
        team = slack_team(server)
        await the_history_and_p2(team)
        p1, p2 = await partnership_id(server, "Acme Alliance"), await partnership_id(server, "Beta Pact")

        await sign_in(browser, server, team, "ana")  # a manager, not an executive
        assert await overview_rows(browser) == [str(p1)]
        assert await status_at(browser, server, f"/app/partnerships/{p2}") == 404
        assert await status_at(browser, server, f"/app/people/{await person_id(server, 'carl')}") == 404

        await sign_in(browser, server, team, "vera")
        assert set(await overview_rows(browser)) == {str(p1), str(p2)}
        assert (await overview_rows(browser))[0] == str(p1)  # it needs attention (a skipped sync, overdue items)
        p2_said = {label: without_sparkline(value) for label, value in await said(team, "carl", "report P-2")}
        for key, label in COLUMNS:
            [cell] = await browser.find_all(f'table#overview tr[data-partnership="{p2}"] td[data-key="{key}"]')
            assert cell.text.strip() == p2_said[label], (key, cell.text)
        await assert_drawn(browser, "section#trends svg", len(TRENDS))
        await browser.screenshot("3-overview-of-vera")
        # sorted by wins: P-2 (none) first going up, P-1 (two) first going down
        overview_url = await browser.url()
        [wins] = [a.attributes["href"] for a in await browser.find_all("table#overview thead th a")
                  if re.search(r"sort=wins\b", a.attributes["href"])]
        up = re.sub(r"order=\w+", "order=asc", wins) if "order=" in wins else wins + "&order=asc"
        await browser.open(urljoin(overview_url, up))
        assert await overview_rows(browser) == [str(p2), str(p1)]
        await browser.screenshot("3-overview-by-wins-ascending")
        await browser.open(urljoin(overview_url, up.replace("order=asc", "order=desc")))
        assert await overview_rows(browser) == [str(p1), str(p2)]

        assert await status_at(browser, server, f"/app/partnerships/{p2}") == 200
        assert "P-2 Beta Pact" in await browser.text()
        await browser.screenshot("3-partnership-P-2-seen-by-vera")
        assert set(await nav(browser)) == {"Partnerships", "My scorecard", "Leaders", "Credit", "Sign out"}
        # the leaders: vera first (an executive), then the managers, each with whether they partner
        assert await status_at(browser, server, "/app/leaders") == 200
        leaders = [r.text for r in await browser.find_all("table#leaders tbody tr")]
        row_of = {r.split("\t")[0]: r for r in leaders}
        assert leaders[0].startswith("vera\texecutive") and set(row_of) == {"vera", "ana", "dana", "carl", "dora"}
        # whether they partner: their own part of the syncs (ana answered S-1 and S-2, dana only S-1), and
        # their commitments kept, as `report` says it
        assert "100% (2 of 2 syncs answered)" in row_of["ana"], row_of["ana"]
        assert "50% (1 of 2 syncs answered)" in row_of["dana"], row_of["dana"]
        assert without_sparkline(dict(await said(team, "ana", "report"))["Kept on time"]) in row_of["ana"]
        await browser.screenshot("3-leaders-seen-by-vera")


# --- 4. the credit report ----------------------------------------------------------------------
async def test_the_credit_report_lists_each_win_and_its_csv_adds_up(browser, schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with serving(schema_url) as server:
        team = slack_team(server)
        await history(team)
        # a win whose amount splits into an odd cent: 62.5% and 37.5% of 100,000.01
        won = await team.say("bob", "win H-4 100000.01")
        assert won.ok and "bob 62.5% (62,500.01) · deliverer; maria 37.5% (37,500) · originator" in won.text

        await sign_in(browser, server, team, "ana")  # a manager: the wins of her and the people below her
        await follow(browser, (await nav(browser))["Credit"])
        assert await browser.status_of_last_page() == 200
        await browser.open(f"{server.url}/app/credit?{PERIOD}")
        assert await browser.status_of_last_page() == 200
        lines = [r.text.split("\t") for r in await browser.find_all("table#wins tbody tr")]
        # Win, Account, Won on, Win amount, Person, Roles, Share, Credited: H-1 (ana and maria, no amount),
        # L-1 (ana's alone, 120,000), H-4 (bob and maria)
        assert sorted((line[0], line[4], line[3], line[7]) for line in lines) == [
            ("H-1", "ana", "—", "—"), ("H-1", "maria", "—", "—"), ("H-4", "bob", "100,000.01", "62,500.01"),
            ("H-4", "maria", "100,000.01", "37,500"), ("L-1", "ana", "120,000", "120,000")], lines
        totals = {t.text.split("\t")[0]: t.text.split("\t") for t in await browser.find_all("table#totals tbody tr")}
        assert set(totals) == {"ana", "bob", "maria"}, totals
        [csv_link] = await browser.find_all("a#csv")
        assert csv_link.attributes["href"].endswith(f"/app/credit.csv?{PERIOD}"), csv_link
        await browser.screenshot("4-credit-report")

        # the CSV, downloaded with the browser's session over HTTP
        session = (await browser.cookies())[COOKIE]["value"]
        download = await server.get(urljoin("/app/credit", csv_link.attributes["href"]), session)
        assert download.status == 200 and download.headers["Content-Type"].startswith("text/csv"), download
        table = list(csv.DictReader(io.StringIO(download.text)))
        assert list(table[0]) == ["win", "account", "won_on", "win_amount", "person", "roles", "share",
                                  "credited_amount"]
        by_win = defaultdict(list)
        for line in table:
            by_win[line["win"]].append(line)
        assert sorted(by_win) == ["H-1", "H-4", "L-1"], by_win
        for win, credited in by_win.items():
            assert len({line["win_amount"] for line in credited}) == 1, credited
            amount = credited[0]["win_amount"]
            if amount == "":  # won without an amount (H-1): no part of one either
                assert all(line["credited_amount"] == "" for line in credited), credited
                continue
            assert re.fullmatch(r"\d+\.\d\d", amount) and all(
                re.fullmatch(r"\d+\.\d\d", line["credited_amount"]) for line in credited), credited
            assert sum(Decimal(line["credited_amount"]) for line in credited) == Decimal(amount), (win, credited)
            assert sum(Decimal(line["share"]) for line in credited) == 1, credited
        assert {(x["person"], x["roles"], x["credited_amount"]) for x in by_win["H-4"]} == {
            ("bob", "deliverer", "62500.01"), ("maria", "originator", "37500.00")}
        assert [(x["person"], x["win_amount"], x["credited_amount"]) for x in by_win["L-1"]] == [
            ("ana", "120000.00", "120000.00")]
        assert {x["person"] for x in by_win["H-1"]} == {"ana", "maria"}
        # the totals per person are the sums of their lines, as the page shows them
        sums = defaultdict(Decimal)
        for line in table:
            sums[line["person"]] += Decimal(line["credited_amount"] or "0")
        assert sums == {"ana": Decimal("120000.00"), "bob": Decimal("62500.01"), "maria": Decimal("37500.00")}
        shown = {person: line[2] for person, line in totals.items()}  # Person, Wins, Credited, without an amount
        assert shown == {"ana": "120,000", "bob": "62,500.01", "maria": "37,500"}, totals

        # a bad period: a 400 saying what is wrong, and no table
        for query, why in (("from=2026-12-31&to=2026-10-01", "to is before from"),
                           ("from=garbage&to=2026-12-31", "must both be dates")):
            assert await status_at(browser, server, f"/app/credit?{query}") == 400, query
            assert why in await browser.text(), await browser.text()
            assert not await browser.find_all("table#wins") and not await browser.find_all("table#totals")
            assert (await server.get(f"/app/credit.csv?{query}", session)).status == 400
        await browser.screenshot("4-credit-report-bad-period")
