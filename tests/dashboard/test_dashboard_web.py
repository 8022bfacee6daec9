"""The web dashboard over real HTTP, served by `partnerbot serve`'s app on a loopback port:
signed in with a link from a real `dashboard` command; every refusal a 404 with no session."""
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
        found = re.findall(r'<h2>(.*?)</h2>\s*<p class="value">(.*?)</p>', self.text, re.S)
        return [(html.unescape(label), html.unescape(value)) for label, value in found]


@dataclass
class Served:
    url: str
    bot: Partnerbot
    clock: FixedClock
    http: aiohttp.ClientSession
    public_url: str

    def chat(self) -> Chat:
        return Chat(self.bot.dispatcher)

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


@asynccontextmanager
async def serving(database_url: str, public_url: str) -> AsyncIterator[Served]:
    clock = FixedClock()
    bot = Partnerbot(load_settings({"DATABASE_URL": database_url, "PUBLIC_URL": public_url}), clock)
    await bot.upgrade()
    async with loopback(build_web_app(bot)) as url, aiohttp.ClientSession() as http:
        yield Served(url, bot, clock, http, public_url)


@pytest.fixture
async def server(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url, "https://partnerbot.example.com") as served:
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


async def test_a_link_from_dashboard_signs_in_and_shows_ones_own_scorecard(server):
    link = await server.link("ana")
    signin = await server.get(link)
    assert signin.status == 303 and signin.headers["Location"] == "/app/"
    assert_guarded(signin)
    cookie = signin.set_cookie.lower()
    for part in ("httponly", "samesite=lax", "secure", "max-age=28800", "path=/app"):
        assert part in cookie, signin.set_cookie
    page = await server.get("/app/", signin.cookie)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert_guarded(page)
    assert "<h1>Scorecard of ana — last 8 weeks</h1>" in page.text
    assert ("Kept on time", "— (nothing due yet)") in page.figures
    assert "<script" not in page.text and "http://" not in page.text.replace("http://www.w3.org", "")
    # every inline style is this response's nonce, which the CSP names
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    assert set(re.findall(r'<style nonce="([^"]+)"', page.text)) == {nonce}
    assert ' style="' not in page.text


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
    assert_not_found(await server.get("/app/people/1"))
    assert_not_found(await server.get("/app/logout"))
    session = await server.sign_in("ana")
    assert_not_found(await server.get("/app/people/1", session))  # no such page in this slice
    server.clock.now = FIXED_NOW + timedelta(hours=8)
    assert_not_found(await server.get("/app/", session))


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
    bot = Clocked(server.bot.db, server.bot.settings, server.clock)
    await history(bot)  # ends with the clock at REPORT_AT
    report = await bot.say("ana", "report")
    said = [(f.label, f.value) for f in report.cards[0].facts]
    page = await server.get("/app/", await server.sign_in("ana"))
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
    assert [(f.label, f"{f.text} {sparkline(f.weekly, (0.0, 1.0) if f.is_rate else None)}") for f in data.figures] \
        == said


async def test_a_name_typed_as_markup_is_shown_as_text(server):
    page = await server.get("/app/", await server.sign_in('<i onmouseover="x">eve</i>'))
    assert page.status == 200
    assert "<h1>Scorecard of &lt;i onmouseover=&#34;x&#34;&gt;eve&lt;/i&gt; — last 8 weeks</h1>" in page.text
    assert "<i " not in page.text
