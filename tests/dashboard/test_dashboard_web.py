"""The web dashboard over real HTTP, served by `partnerbot serve`'s app on a loopback port:
signed in with a link from a real `dashboard` command; every refusal a 404 with no session.
The pages read on the known history of tests/reports/test_report.py say what `report` says."""
from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from handlers.reports.overview import COLUMNS
from handlers.reports.pages import person_page
from handlers.reports.sparkline import sparkline
from tests.conftest import FIXED_NOW, Chat, FixedClock
from tests.helpers import Clocked, person_named
from tests.reports.test_export import loopback
from tests.reports.test_report import REPORT_AT, history

COOKIE = "partnerbot_session"
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@dataclass
class Page:
    status: int
    headers: dict
    text: str
    cookie: str | None  # the session cookie it set, if any
    set_cookie: str  # the raw Set-Cookie header

    @property
    def figures(self) -> list[tuple[str, str]]:
        """(label, value) of each figure, as a reader sees them."""
        found = re.findall(r'<section class="figure"[^>]*>\s*<h2>(.*?)</h2>\s*<p class="value">(.*?)</p>', self.text,
                           re.S)
        return [(html.unescape(label), html.unescape(value)) for label, value in found]

    def section(self, section_id: str) -> str:
        """The markup of <section id=section_id>, up to the next section at its level or the end."""
        found = re.search(rf'<section id="{section_id}">(.*?)</section>\s*(?=<section id=|</main>)', self.text, re.S)
        assert found, f"no section {section_id}"
        return found.group(1)

    def texts(self, pattern: str, within: str | None = None) -> list[str]:
        """The text (tags dropped, unescaped) of what `pattern`'s group matches."""
        return [text_of(found) for found in re.findall(pattern, self.text if within is None else within, re.S)]

    @property
    def nav(self) -> list[tuple[str, str]]:
        """(text, href) of the nav's links."""
        nav = re.search(r"<nav[^>]*>(.*?)</nav>", self.text, re.S).group(1)
        return [(text_of(text), href) for href, text in re.findall(r'<a[^>]*href="([^"]*)"[^>]*>(.*?)</a>', nav)]


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup)).strip()


@dataclass
class Served:
    url: str
    bot: Partnerbot
    clock: FixedClock
    http: aiohttp.ClientSession
    public_url: str
    platform: str = "console"
    workspace: str = "acme"

    def chat(self) -> Chat:
        return Chat(self.bot.dispatcher, self.platform, self.workspace)

    def team(self) -> Clocked:
        """Commands and the cadence tick on the server's clock, typed on the server's platform."""
        team = Clocked(self.bot.db, self.bot.settings, self.clock)
        team.chat = Chat(team.chat.dispatcher, self.platform, self.workspace)
        return team

    async def link(self, user: str) -> str:
        """The path of the sign-in link `dashboard` answers `user`."""
        reply = await self.chat().say(user, "dashboard")
        assert reply.ok, reply.text
        found = re.search(re.escape(self.public_url) + r"(/app/signin/[A-Za-z0-9_-]{43})", reply.text)
        assert found, reply.text
        return found.group(1)

    async def get(self, path: str, cookie: str | None = None) -> Page:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        async with self.http.get(self.url + path, headers=headers, allow_redirects=False) as response:
            morsel = response.cookies.get(COOKIE)
            return Page(response.status, dict(response.headers), await response.text(),
                        morsel.value if morsel is not None and morsel.value else None,
                        response.headers.get("Set-Cookie", ""))

    async def sign_in(self, user: str) -> str:
        page = await self.get(await self.link(user))
        assert page.status == 303 and page.headers["Location"] == "/app/" and page.cookie, page
        return page.cookie

    async def id_of(self, user: str) -> int:
        return (await person_named(self.bot.db, user)).id

    async def scorecard(self, user: str, cookie: str) -> Page:
        """`user`'s own page, as the nav's "My scorecard" opens it."""
        return await self.get(f"/app/people/{await self.id_of(user)}", cookie)


@asynccontextmanager
async def serving(database_url: str, public_url: str, *, platform: str = "console",
                  workspace: str = "acme") -> AsyncIterator[Served]:
    """The app on loopback. Whoever types on the console is an admin, whose dashboard sees the
    whole workspace; on Slack, a person sees their own scope (admins only by setting)."""
    clock = FixedClock()
    bot = Partnerbot(load_settings({"DATABASE_URL": database_url, "PUBLIC_URL": public_url}), clock)
    await bot.upgrade()
    async with loopback(build_web_app(bot)) as url, aiohttp.ClientSession() as http:
        yield Served(url, bot, clock, http, public_url, platform, workspace)


@pytest.fixture
async def server(schema_url, tmp_path, monkeypatch):
    """People of Slack workspace T1, each seeing what their role lets them."""
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url, "https://partnerbot.example.com", platform="slack", workspace="T1") as served:
        yield served


def assert_guarded(page: Page) -> None:
    for name, value in HEADERS.items():
        assert page.headers.get(name) == value, (name, page.headers)
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    assert "img-src 'self' data:" in csp


def assert_not_found(page: Page) -> None:
    assert page.status == 404, (page.status, page.text)
    assert page.cookie is None
    assert_guarded(page)


def assert_strict_page(page: Page, title: str) -> None:
    """A page of the dashboard: guarded, its <title>, no script, every style by this response's nonce."""
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html"), (page.status, page.text)
    assert_guarded(page)
    assert f"<title>{title} · Partnerbot</title>" in page.text
    assert "<script" not in page.text and "http://" not in page.text.replace("http://www.w3.org", "")
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    assert set(re.findall(r'<style nonce="([^"]+)"', page.text)) == {nonce}
    assert ' style="' not in page.text and "<style>" not in page.text


async def test_a_link_from_dashboard_signs_in_and_shows_ones_own_scorecard(server):
    link = await server.link("ana")
    signin = await server.get(link)
    assert signin.status == 303 and signin.headers["Location"] == "/app/"
    assert_guarded(signin)
    cookie = signin.set_cookie.lower()
    for part in ("httponly", "samesite=lax", "secure", "max-age=28800", "path=/app"):
        assert part in cookie, signin.set_cookie
    home = await server.get("/app/", signin.cookie)
    assert_strict_page(home, "Partnerships")
    ana = await server.id_of("ana")
    assert home.nav == [("Partnerships", "/app/"), ("My scorecard", f"/app/people/{ana}"), ("Sign out", "/app/logout")]
    page = await server.get(f"/app/people/{ana}", signin.cookie)
    assert_strict_page(page, "Scorecard of ana — last 8 weeks")
    assert "<h1>Scorecard of ana — last 8 weeks</h1>" in page.text
    assert ("Kept on time", "— (nothing due yet)") in page.figures


async def test_a_link_works_once(server):
    link = await server.link("ana")
    assert (await server.get(link)).status == 303
    assert_not_found(await server.get(link))


async def test_a_link_works_ten_minutes(server):
    link = await server.link("ana")
    server.clock.now = FIXED_NOW + timedelta(minutes=10)
    assert_not_found(await server.get(link))


async def test_without_a_live_session_every_page_is_not_found(server):
    assert_not_found(await server.get("/app/"))
    assert_not_found(await server.get("/app/", "x" * 43))
    assert_not_found(await server.get("/app/signin/not-a-token"))
    for path in ("/app/people/1", "/app/partnerships/1", "/app/leaders", "/app/credit", "/app/credit.csv",
                 "/app/logout"):
        assert_not_found(await server.get(path))
    session = await server.sign_in("ana")
    eve = await server.sign_in("eve")
    assert (await server.scorecard("ana", session)).status == 200
    assert_not_found(await server.get(f"/app/people/{await server.id_of('eve')}", session))  # not ana's to see
    assert_not_found(await server.scorecard("ana", eve))
    assert_not_found(await server.get("/app/people/999", session))
    assert_not_found(await server.get("/app/partnerships/999", session))
    assert_not_found(await server.get("/app/people/ana", session))
    assert_not_found(await server.get("/app/elsewhere", session))
    server.clock.now = FIXED_NOW + timedelta(hours=8)
    assert_not_found(await server.get("/app/", session))
    assert_not_found(await server.scorecard("ana", session))


async def test_logout_ends_the_session(server):
    session = await server.sign_in("ana")
    out = await server.get("/app/logout", session)
    assert out.status == 200 and "Signed out" in out.text
    assert_guarded(out)
    assert_not_found(await server.get("/app/", session))


async def test_dashboard_signout_in_the_chat_ends_every_browsers_session(server):
    first, second = await server.sign_in("ana"), await server.sign_in("ana")
    bob = await server.sign_in("bob")
    reply = await server.chat().say("ana", "dashboard signout")
    assert reply.ok and "2 dashboard sessions ended" in reply.text
    assert_not_found(await server.get("/app/", first))
    assert_not_found(await server.get("/app/", second))
    assert (await server.get("/app/", bob)).status == 200


async def test_the_cookie_is_not_secure_on_plain_http(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with serving(schema_url, "http://localhost:3978") as served:
        signin = await served.get(await served.link("ana"))
        assert signin.status == 303 and "secure" not in signin.set_cookie.lower()


async def test_the_page_shows_the_very_figures_of_report_with_a_chart_each(server):
    bot = server.team()
    await history(bot)  # ends with the clock at REPORT_AT
    report = await bot.say("ana", "report")
    said = [(f.label, f.value) for f in report.cards[0].facts]
    page = await server.scorecard("ana", await server.sign_in("ana"))
    assert page.status == 200
    # the text of each figure is report's, the sparkline left for the chart
    assert page.figures == [(label, value.rsplit(" ", 1)[0]) for label, value in said]
    assert page.text.count("<svg") == len(said)
    assert page.text.count("<desc id=") == len(said) and page.text.count("<table>") == len(said)
    assert "<title id=\"chart-1-title\">Kept on time</title>" in page.text
    assert "Kept on time, 40% (4 of 10 kept on time). Week by week, oldest first — 26 Oct: 100%" in page.text
    # and the weekly series charted is the one report draws as a sparkline
    ana = await person_named(server.bot.db, "ana")
    async with server.bot.db.transaction() as store:
        data = await person_page(store, ana.id, REPORT_AT)
    charted = [(f.label, f.chart.series[0].values, (0.0, 1.0) if f.chart.is_rate else None) for f in data.figures]
    assert [(label, f"{f.text} {sparkline(values, bounds)}")
            for (label, values, bounds), f in zip(charted, data.figures, strict=True)] == said


async def test_a_name_typed_as_markup_is_shown_as_text(server):
    name = '<i onmouseover="x">eve</i>'
    page = await server.scorecard(name, await server.sign_in(name))
    assert page.status == 200
    assert "<h1>Scorecard of &lt;i onmouseover=&#34;x&#34;&gt;eve&lt;/i&gt; — last 8 weeks</h1>" in page.text
    assert "<i " not in page.text


def _without_sparkline(value: str) -> str:
    return value.rsplit(" ", 1)[0] if value[-1:] in "▁▂▃▄▅▆▇█·" else value


async def _report(bot: Clocked, user: str, what: str = "") -> dict[str, str]:
    """Each figure of `report` as the chat says it, without its sparkline."""
    reply = await bot.say(user, f"report {what}".strip())
    return {f.label: _without_sparkline(f.value) for f in reply.cards[0].facts}


def _rows(page: Page, table_id: str) -> list[list[str]]:
    """The text of each cell of each row of <table id=table_id>'s body."""
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', page.text, re.S).group(1)
    return [[text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def _order(page: Page) -> list[str]:
    """The overview's partnerships, top to bottom."""
    return page.texts(r'<tr data-partnership="\d+"[^>]*>\s*<th scope="row"><a [^>]*>(.*?)</a>')


async def test_the_overview_shows_each_partnership_with_the_figures_of_report_p_n(server):
    bot = server.team()
    await history(bot)
    said = await _report(bot, "ana", "P-1")
    page = await server.get("/app/", await server.sign_in("ana"))
    assert_strict_page(page, "Partnerships")
    assert "<h1>Partnerships</h1>" in page.text
    ana = await server.id_of("ana")
    assert page.nav == [("Partnerships", "/app/"), ("My scorecard", f"/app/people/{ana}"), ("Leaders", "/app/leaders"),
                        ("Credit", "/app/credit"), ("Sign out", "/app/logout")]
    [row] = re.findall(r'<tr data-partnership="1" class="attention">(.*?)</tr>', page.text, re.S)
    assert '<a href="/app/partnerships/1">P-1 Acme Alliance</a>' in row
    cells = dict(re.findall(r'<td data-key="([a-z_]+)">(.*?)</td>', row))
    assert list(cells) == [key for key, _ in COLUMNS]
    for key, label in COLUMNS:
        assert html.unescape(cells[key]) == said[label], label
    assert page.texts(r'<td class="health[^"]*">(.*?)</td>', row) == ["A 4.1 · B too few answers to show (2 of 2)"]
    assert page.texts(r'<td class="attention[^"]*">(.*?)</td>', row) == \
        ["1 peer sync skipped; 2 overdue; 3 handoffs stuck"]
    # a 12-week trend per figure, each with its table
    trends = page.section("trends")
    assert trends.count("<svg") == 8 and trends.count("<table>") == 8
    assert trends.count('<th scope="col">') == 8 * 13  # "Week of" and 12 weeks
    assert '<title id="trend-2-title">Kept on time</title>' in trends


async def test_the_overview_sorts_by_any_column_without_script(server):
    bot = server.team()
    await history(bot)
    assert (await bot.say("ana", "partnership new Zeta Ventures with <@zoe|zoe>")).ok
    assert (await bot.say("zoe", "partnership P-2 accept")).ok
    session = await server.sign_in("ana")

    async def order(query: str = "") -> list[str]:
        page = await server.get("/app/" + query, session)
        assert page.status == 200, page.text
        return _order(page)

    acme, zeta = "P-1 Acme Alliance", "P-2 Zeta Ventures"
    assert await order() == [acme, zeta]  # needs attention first
    assert await order("?sort=attention&order=asc") == [zeta, acme]
    assert await order("?sort=partnership&order=asc") == [acme, zeta]
    assert await order("?sort=partnership&order=desc") == [zeta, acme]
    assert await order("?sort=leads&order=asc") == [zeta, acme]  # 0 open leads, then 2
    assert await order("?sort=leads&order=desc") == [acme, zeta]
    # no pulse closed yet for P-2: last whichever way
    assert await order("?sort=health&order=asc") == [acme, zeta]
    assert await order("?sort=health&order=desc") == [acme, zeta]
    # what it does not know it ignores
    assert await order("?sort=nonsense&order=asc") == [acme, zeta]
    assert await order("?sort=partnership&order=sideways") == [acme, zeta]
    assert await order("?sort=&order=") == [acme, zeta]
    # each header is a link that sorts by it; the current one's sorts the other way
    page = await server.get("/app/?sort=leads&order=asc", session)
    headers = re.findall(r'<th scope="col"[^>]*?(?: aria-sort="(\w+)")?><a href="([^"]+)">(.*?)</a></th>', page.text)
    assert [html.unescape(text) for _, _, text in headers] == \
        ["Partnership", "Health", *(label for _, label in COLUMNS), "Needs attention"]
    links = {html.unescape(text): (html.unescape(href), aria) for aria, href, text in headers}
    assert links["Leads"] == ("?sort=leads&order=desc", "ascending")
    assert links["Partnership"] == ("?sort=partnership&order=asc", "")
    assert links["Kept on time"] == ("?sort=kept&order=desc", "")


async def test_someone_in_no_partnership_is_told_how_to_start_one(server):
    session = await server.sign_in("eve")
    page = await server.get("/app/", session)
    assert_strict_page(page, "Partnerships")
    assert 'id="overview"' not in page.text
    assert "There is no partnership in your scope yet" in text_of(page.text)
    assert "partnership new &lt;name&gt; with @manager" in page.text
    # a rep: neither leaders nor credit, in the nav or by address
    assert [text for text, _ in page.nav] == ["Partnerships", "My scorecard", "Sign out"]
    for path in ("/app/leaders", "/app/credit", "/app/credit?from=2026-10-01&to=2026-12-31", "/app/credit.csv"):
        assert_not_found(await server.get(path, session))


async def test_the_partnership_page_shows_its_charter_members_figures_and_history(server):
    bot = server.team()
    await history(bot)
    said = await _report(bot, "ana", "P-1")
    session = await server.sign_in("ana")
    page = await server.get("/app/partnerships/1", session)
    assert_strict_page(page, "P-1 Acme Alliance — last 8 weeks")
    assert "<h1>P-1 Acme Alliance — last 8 weeks</h1>" in page.text
    charter = page.section("charter")
    assert len(page.texts(r"<li>(.*?)</li>", re.search(r"<ol>(.*?)</ol>", charter, re.S).group(1))) == 5
    assert page.texts(r"<li>(.*?)</li>", re.search(r"<ul>(.*?)</ul>", charter, re.S).group(1)) == \
        ["ana has not agreed to version 1 yet", "dana has not agreed to version 1 yet"]
    members = page.section("members")
    ids = {name: await server.id_of(name) for name in ("ana", "bob", "leo", "dana", "maria")}
    assert page.texts(r"<caption>(.*?)</caption>", members) == ["Side A", "Side B"]
    assert re.findall(r'<a href="/app/people/(\d+)">(.*?)</a></td><td class="text">(\w+)</td>', members) == \
        [(str(ids[n]), n, role) for n, role in (("ana", "manager"), ("bob", "rep"), ("leo", "rep"),
                                                ("dana", "manager"), ("maria", "rep"))]
    # the figures of `report P-1`, a chart for each with a trend
    assert dict(page.figures) == said
    figures = page.section("figures")
    assert figures.count("<svg") == figures.count("<table>") == 14  # the figures with a trend
    funnels = page.section("funnels")
    assert funnels.count("<svg") == 2 and funnels.count('role="img"') == 2
    assert "Handoffs A → B by stage, 3 made in the last 8 weeks. identified: 1; positioned: 0; introduced: 0; " \
           "delivered: 0; won: 1; lost: 0; declined: 1." in html.unescape(funnels)
    syncs = page.section("syncs")
    assert [page.texts(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr data-answered[^>]*>(.*?)</tr>", syncs)] \
        == [["S-2", "2026-W46", "one-sided", "ana"], ["S-1", "2026-W45", "both", "ana, dana"]]
    meetings = page.section("meetings")
    assert page.texts(r"<h3>(.*?)</h3>", meetings) == ["M-2 Brainstorm new business at Acme",
                                                         "M-1 Brainstorm new business at Acme"]
    assert "closed: no" in meetings and "closed: yes" in meetings
    assert "<li>C-2 send the case study — bob, done</li>" in meetings
    # those that need a look first: L-3 open without a next activity, L-2 open with one, L-1 won
    assert [(row[0], row[-2], row[-1]) for row in _section_rows(page.section("leads"))] == \
        [("L-3", "open", "none"), ("L-2", "open", "C-13 plan workshop, due Wed 23 Dec 17:00 (UTC)"), ("L-1", "won", "—")]
    assert "more" not in text_of(page.section("leads")) and "more action item" not in meetings
    pulse = page.section("pulse")
    assert pulse.count("<svg") == 5
    assert 'class="series serie-0' in pulse and 'class="series serie-1' in pulse  # side A and side B
    assert "Shared risk, average rating per side" in pulse
    assert "November 2026: side A 4.7, side B no data" in pulse
    assert "<li>C-13 plan workshop — ana, due Wed 23 Dec 17:00 (UTC)</li>" in page.section("open")
    # a member out of the viewer's scope is a link to a 404; so is a partnership
    eve = await server.sign_in("eve")
    assert_not_found(await server.get("/app/partnerships/1", eve))
    assert_not_found(await server.get(f"/app/people/{ids['maria']}", eve))


def _section_rows(markup: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", markup, re.S).group(1)
    return [[text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


async def test_a_busy_partnerships_page_shows_what_needs_a_look_and_counts_the_rest(server):
    bot = server.team()
    await history(bot)
    for i in range(12):  # M-2 was never closed: it takes action items still
        assert (await bot.say("ana", f"action M-2 <@bob|bob> follow-up {i} by fri", channel="C1")).ok
    for i in range(49):  # 52 leads in all; L-3 and the 49 new ones have no next activity
        assert (await bot.say("ana", f"idea Account {i}: a pilot", channel="C1")).ok
    page = await server.get("/app/partnerships/1", await server.sign_in("ana"))
    meetings = page.section("meetings")
    [m2] = re.findall(r"<article class=\"meeting\">\s*<h3>M-2 .*?</article>", meetings, re.S)
    assert m2.count("<li>") == 10 and text_of(m2).endswith("and 2 more action items.")
    leads = _section_rows(page.section("leads"))
    assert len(leads) == 50 and all(row[-1] == "none" for row in leads)
    assert "L-1" not in [row[0] for row in leads]  # won: after the 51 open ones
    assert page.texts(r'<p class="more">(.*?)</p>', page.section("leads")) == [
        "The 50 of 52 leads that most need a look: open without a next activity, then by their next activity, "
        "then the latest closed."]


async def test_a_new_partnership_says_what_it_has_not_yet(server):
    bot = server.team()
    assert (await bot.say("ana", "partnership new Acme & <Sons> with <@zoe|zoe>")).ok
    page = await server.get("/app/partnerships/1", await server.sign_in("ana"))
    assert page.status == 200, page.text
    assert "<h1>P-1 Acme &amp; &lt;Sons&gt; — last 8 weeks</h1>" in page.text and "<Sons>" not in page.text
    for section, sentence in (("syncs", "No peer sync yet."), ("meetings", "No meeting yet."),
                              ("leads", "No lead yet."), ("pulse", "No health pulse closed yet."),
                              ("open", "Nothing open.")):
        assert text_of(page.section(section)).endswith(sentence), section
    overview = await server.get("/app/", await server.sign_in("ana"))
    assert _order(overview) == ["P-1 Acme & <Sons>"] and "<Sons>" not in overview.text


async def test_a_managers_page_coaches_each_person_reporting_to_them(server):
    bot = server.team()
    await history(bot)
    session = await server.sign_in("ana")
    page = await server.scorecard("ana", session)
    coaching = page.section("coaching")
    bob, leo = await server.id_of("bob"), await server.id_of("leo")
    assert re.findall(r'<article class="coaching">\s*<h3><a href="/app/people/(\d+)">(\w+)</a></h3>', coaching) == \
        [(str(bob), "bob"), (str(leo), "leo")]
    bobs = coaching.split('<article class="coaching">')[1]
    assert page.texts(r"<dt>(.*?)</dt>", bobs) == ["Activity", "Not accepted", "Stuck in a stage", "Overdue"]
    assert page.texts(r"<li>(.*?)</li>", bobs)[1] == "What got in the way of C-8, and is the new date real?"
    # bob's own page has no coaching; bob, a rep, may not open ana's
    bob_session = await server.sign_in("bob")
    assert "coaching" not in (await server.scorecard("bob", bob_session)).text
    assert_not_found(await server.scorecard("ana", bob_session))
    # ana opens bob's scorecard: his figures, no coaching of anyone
    bobs_page = await server.get(f"/app/people/{bob}", session)
    assert_strict_page(bobs_page, "Scorecard of bob — last 8 weeks")
    assert 'id="coaching"' not in bobs_page.text


async def test_leaders_shows_whether_the_managers_partner_themselves(server):
    bot = server.team()
    await history(bot)
    page = await server.get("/app/leaders", await server.sign_in("ana"))
    assert_strict_page(page, "Leaders")
    ana, dana = await server.id_of("ana"), await server.id_of("dana")
    assert _rows(page, "leaders") == [
        ["ana", "manager of 2 (2 directly) · manages P-1", "100% (2 of 2 syncs answered)",
         "40% (4 of 10 kept on time)", "50% (1 of 2 closed with an action item)"],
        ["dana", "manager of 1 (1 directly) · manages P-1", "50% (1 of 2 syncs answered)", "— (nothing due)",
         "— (0 meetings organised)"]]
    assert f'<a href="/app/people/{ana}">ana</a>' in page.text and f'<a href="/app/people/{dana}">dana</a>' in page.text


async def test_the_credit_report_lists_each_credited_person_of_each_win_and_their_totals(server):
    bot = server.team()
    await history(bot)
    session = await server.sign_in("ana")
    page = await server.get("/app/credit?from=2026-10-01&to=2026-12-31", session)
    assert_strict_page(page, "Credit report")
    assert re.findall(r'<input type="date" name="(from|to)" value="([0-9-]+)"', page.text) == \
        [("from", "2026-10-01"), ("to", "2026-12-31")]
    assert _rows(page, "wins") == [
        ["H-1", "Acme Corp", "2026-12-03", "—", "maria", "deliverer", "62.5%", "—"],
        ["H-1", "Acme Corp", "2026-12-03", "—", "ana", "originator", "37.5%", "—"],
        ["L-1", "Acme", "2026-12-14", "120,000", "ana", "originator, deliverer, contributor", "100%", "120,000"]]
    total = re.search(r'<tr class="total">(.*?)</tr>', page.text, re.S).group(1)
    assert [text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", total)] == \
        ["Total: 2 wins", "120,000", "", "120,000"]
    assert _rows(page, "totals") == [["ana", "2", "120,000", "1"], ["maria", "1", "0", "1"]]
    assert '<a id="csv" href="/app/credit.csv?from=2026-10-01&amp;to=2026-12-31">Download CSV</a>' in page.text
    # without a period: this quarter so far, which the CSV link then names
    default = await server.get("/app/credit", session)
    assert default.status == 200
    assert '<a id="csv" href="/app/credit.csv?from=2026-10-01&amp;to=2026-12-21">' in default.text


async def test_the_credit_csv_is_the_table_as_a_file(server):
    bot = server.team()
    await history(bot)
    session = await server.sign_in("ana")
    csv = await server.get("/app/credit.csv?from=2026-10-01&to=2026-12-31", session)
    assert csv.status == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.headers["Content-Disposition"] == 'attachment; filename="partnerbot-credit-2026-10-01-2026-12-31.csv"'
    assert_guarded(csv)
    assert csv.text.splitlines() == [
        "win,account,won_on,win_amount,person,roles,share,credited_amount",
        "H-1,Acme Corp,2026-12-03,,maria,deliverer,0.6250,",
        "H-1,Acme Corp,2026-12-03,,ana,originator,0.3750,",
        'L-1,Acme,2026-12-14,120000.00,ana,"originator, deliverer, contributor",1.0000,120000.00']
    default = await server.get("/app/credit.csv", session)
    assert default.status == 200 and default.text == csv.text
    assert default.headers["Content-Disposition"] == \
        'attachment; filename="partnerbot-credit-2026-10-01-2026-12-21.csv"'


async def test_a_bad_period_is_a_400_that_says_what_is_wrong(server):
    chat = server.chat()
    for user, command in (("ana", "partnership new Acme Alliance with <@dana|dana>"), ("dana", "partnership P-1 accept"),
                          ("ana", "partnership P-1 add <@bob|bob>"), ("bob", "partnership P-1 accept")):
        assert (await chat.say(user, command)).ok, command
    session = await server.sign_in("ana")  # bob's manager: may see credit
    assert (await server.get("/app/credit", session)).status == 200
    for query, wrong in (("from=2026-12-31&to=2026-10-01", "to is before from"),
                         ("from=2026-10-01", "from and to must both be dates like 2026-10-01"),
                         ("from=yesterday&to=2026-10-01", "from and to must both be dates like 2026-10-01"),
                         ("from=2020-01-01&to=2026-10-01", "the period is longer than two years")):
        page = await server.get("/app/credit?" + query, session)
        assert page.status == 400 and page.headers["Content-Type"].startswith("text/html"), (query, page.text)
        assert_guarded(page)
        assert f'<p class="error" role="alert">That period cannot be shown: {wrong}.</p>' in page.text
        assert '<input type="date" name="from"' in page.text and 'id="wins"' not in page.text
        assert 'id="csv"' not in page.text
        csv = await server.get("/app/credit.csv?" + query, session)
        assert (csv.status, csv.text) == (400, wrong)
    page = await server.get("/app/credit?from=%22%3E%3Cb%3E&to=x", session)
    assert page.status == 400 and 'value="&#34;&gt;&lt;b&gt;"' in page.text and "<b>" not in page.text
