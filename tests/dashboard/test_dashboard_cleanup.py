"""The tick forgets dashboard sign-in links and sessions a day after they stopped working, and
nothing that still works: links and sessions made through a real `dashboard` command and the
web app, the tick the one `partnerbot serve` runs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.dashboard.service import SIGN_IN_PATH, token_hash
from storage.models import DashboardSession, DashboardSignIn
from tests.conftest import FIXED_NOW
from tests.dashboard.test_dashboard_web import Served, serving
from tests.helpers import Clocked, rows

TICK = FIXED_NOW + timedelta(hours=16)  # 02:00 UTC: a session signed in last evening still works


@pytest.fixture
async def server(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url, "https://partnerbot.example.com") as served:
        yield served


async def _link(server: Served, user: str, ago: timedelta) -> str:
    """A sign-in link `dashboard` gave `user` `ago` before the tick (its path)."""
    server.clock.now = TICK - ago
    return await server.link(user)


async def _signed_in(server: Served, user: str, ago: timedelta) -> tuple[str, str]:
    """`user` signed in with a link `ago` before the tick: (the link's path, the session cookie)."""
    link = await _link(server, user, ago)
    page = await server.get(link)
    assert page.status == 303 and page.cookie, page
    return link, page.cookie


def _hash(link_or_cookie: str) -> str:
    return token_hash(link_or_cookie.removeprefix(SIGN_IN_PATH))


async def test_the_tick_forgets_links_and_sessions_a_day_after_they_stopped_working(server):
    await _signed_in(server, "ana", timedelta(days=2, hours=8))  # expired two days ago, and its link
    logged_out_over_a_day_ago = await _signed_in(server, "bob", timedelta(days=1, hours=2))
    server.clock.now = TICK - timedelta(days=1, hours=1)
    # logged out over a day ago, though it would have expired less than a day ago
    assert (await server.get("/app/logout", logged_out_over_a_day_ago[1])).status == 200
    await _link(server, "bob", timedelta(days=1, hours=1))  # never used, expired over a day ago
    lapsed_yesterday = await _link(server, "ana", timedelta(hours=23))
    expired_hours_ago = await _signed_in(server, "ana", timedelta(hours=20))
    logged_out_hours_ago = await _signed_in(server, "bob", timedelta(hours=10))
    server.clock.now = TICK - timedelta(hours=9)
    assert (await server.get("/app/logout", logged_out_hours_ago[1])).status == 200
    last_evening = await _signed_in(server, "ana", timedelta(hours=5))
    live_link = await _link(server, "bob", timedelta(minutes=5))

    tick = Clocked(server.bot.db, server.bot.settings, server.clock)
    done = await tick.at(TICK)

    assert done["old dashboard sessions"] == 2 and done["old dashboard sign-in links"] == 3
    kept_sessions = {_hash(cookie) for _, cookie in (expired_hours_ago, logged_out_hours_ago, last_evening)}
    assert {s.token_hash for s in await rows(server.bot.db, DashboardSession)} == kept_sessions
    kept_links = {_hash(link) for link in (lapsed_yesterday, expired_hours_ago[0], logged_out_hours_ago[0],
                                           last_evening[0], live_link)}
    assert {s.token_hash for s in await rows(server.bot.db, DashboardSignIn)} == kept_links
    # what still works works on: last evening's session opens the pages, the live link signs in
    assert (await server.get("/app/", last_evening[1])).status == 200
    assert (await server.get(live_link)).status == 303
    # the next tick finds nothing more to forget; a session kept is forgotten a day after it expired
    assert not {"old dashboard sessions", "old dashboard sign-in links"} & set(await tick.at(TICK + timedelta(minutes=1)))
    done = await tick.at(TICK + timedelta(hours=12, minutes=1))
    assert done["old dashboard sessions"] == 1  # expired_hours_ago, 12 hours after the first tick
