"""Token rotation, with the Slack app's setting on: a workspace installed through the real
/slack/install flow gets an expiring bot token and a refresh token (the fake Slack's); once the
token is within two hours of its expiry, whatever speaks to the workspace next (the outbox
sender, the tick's fan-out, an incoming command) refreshes it once and everything after goes
out with the new token, kept in the installation row. SQLite, and PostgreSQL with
PARTNERBOT_TEST_BACKEND=postgres."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from handlers.kernel.model import Command
from storage.models import OutboxMessage, SlackInstallation
from tests.adapters.test_slack_oauth import Installs, _free_port
from tests.conftest import FixedClock
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET
from tests.helpers import rows

TWELVE_HOURS = 43200
ONE_HOUR = 3600  # inside bolt's two-hour window: the next use refreshes


def _settings(schema_url: str, fake: FakeSlackApi, port: int):
    return load_settings({
        "DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_CLIENT_ID": "111.222",
        "SLACK_CLIENT_SECRET": "client-secret", "SLACK_API_URL": fake.url, "PUBLIC_URL": f"http://127.0.0.1:{port}",
    })


@pytest.fixture
async def fake_slack():
    fake = await FakeSlackApi(timezones={"U1": "Europe/Berlin"}).start()
    fake.token_rotation = True  # the app's "Token Rotation" setting
    yield fake
    await fake.stop()


@pytest.fixture
async def installs(schema_url, fake_slack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    port = _free_port()
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    bot = Partnerbot(_settings(schema_url, fake_slack, port), clock=clock)
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as http:
        yield Installs(f"http://127.0.0.1:{port}", bot, fake_slack, http, clock)
    await runner.cleanup()


async def _install_expiring_soon(installs: Installs, team: str = "T1") -> SlackInstallation:
    """Installs `team` with a token that has an hour left (as if installed eleven hours ago); the
    tokens Slack gives from then on live twelve hours."""
    installs.fake.expires_in = ONE_HOUR
    done = await installs.install(team)
    assert done.status == 200, await done.text()
    installs.fake.expires_in = TWELVE_HOURS
    (stored,) = await rows(installs.bot.db, SlackInstallation, SlackInstallation.team_id == team)
    return stored


async def _owe(bot: Partnerbot, team: str, user: str, text: str) -> None:
    """Something owed to a workspace, written as a command or the tick writes it."""
    await bot.dispatcher.dispatch(Command(platform="slack", workspace=team, user=user, user_name=user.lower(),
                                          text=text))


async def _settled(bot: Partnerbot, count: int) -> list[OutboxMessage]:
    """The outbox once `count` messages are no longer pending (the sender in `serve` sends them)."""
    for _ in range(200):
        messages = await rows(bot.db, OutboxMessage)
        if len([m for m in messages if m.status != "pending"]) >= count:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox never settled: {[(m.id, m.status) for m in messages]}")


def _expires_in(stored: SlackInstallation) -> float:
    return stored.bot_token_expires_at.timestamp() - time.time()


async def test_an_install_with_rotation_keeps_the_refresh_token_and_the_expiry(installs):
    await installs.install("T1")
    (stored,) = await rows(installs.bot.db, SlackInstallation)
    (token,) = installs.fake.tokens_of("T1")
    assert token.startswith("xoxe.xoxb-") and stored.bot_token == token
    assert stored.bot_refresh_token in installs.fake.refresh_tokens
    assert TWELVE_HOURS - 60 < _expires_in(stored) <= TWELVE_HOURS
    await installs.slash("commit send deck by fri", team="T1", user="U1")
    assert installs.fake.refreshes() == []  # twelve hours left: nothing to refresh


async def test_messages_owed_near_expiry_refresh_the_token_once_and_all_go_out_with_the_new_one(installs):
    installed = await _install_expiring_soon(installs)
    installs.fake.delay = 0.05  # the refresh is in flight while the other sends ask for a client
    for user in ("U2", "U3", "U4"):
        await _owe(installs.bot, "T1", "U1", f"handoff <@{user}|{user.lower()}> Acme: a review")
    installs.bot.sender.wake()
    messages = await _settled(installs.bot, 3)
    assert {m.status for m in messages} == {"sent"}

    (refresh,) = installs.fake.refreshes()
    assert refresh.args["refresh_token"] == installed.bot_refresh_token
    old, new = installs.fake.tokens_of("T1")
    assert old == installed.bot_token and new.startswith("xoxe.xoxb-")
    posts = installs.fake.posts()
    assert sorted(p.args["channel"] for p in posts) == ["DU2", "DU3", "DU4"]
    assert {p.token for p in posts} == {new}
    (stored,) = await rows(installs.bot.db, SlackInstallation)
    assert stored.bot_token == new and stored.bot_refresh_token != installed.bot_refresh_token
    assert stored.bot_refresh_token in installs.fake.refresh_tokens  # the next refresh will work
    assert TWELVE_HOURS - 60 < _expires_in(stored) <= TWELVE_HOURS

    # later messages: the new token, no second refresh
    await _owe(installs.bot, "T1", "U1", "handoff <@U5|u5> Acme: pricing")
    installs.bot.sender.wake()
    await _settled(installs.bot, 4)
    assert installs.fake.posts()[-1].token == new and len(installs.fake.refreshes()) == 1


async def test_the_ticks_reminders_near_expiry_go_out_with_the_refreshed_token(installs):
    installed = await _install_expiring_soon(installs)
    for user in ("U1", "U2"):
        await _owe(installs.bot, "T1", user, "commit send pricing deck to Acme by fri")
    installs.clock.now += timedelta(days=8)  # both past due
    done, _sent = await installs.bot.tick()
    assert sum(done.values()) >= 2
    posts = await installs.fake.wait_for("chat.postMessage", 2)
    (_old, new) = installs.fake.tokens_of("T1")
    assert {(p.args["channel"], p.token) for p in posts} == {("DU1", new), ("DU2", new)}
    assert len(installs.fake.refreshes()) == 1
    (stored,) = await rows(installs.bot.db, SlackInstallation)
    assert stored.bot_token == new != installed.bot_token


async def test_a_command_near_expiry_is_authorized_and_answered_with_the_refreshed_token(installs):
    """bolt's own path: its authorize refreshes before the listener runs; the profile lookup and
    the direct message the command owes then use the same new token, refreshed once."""
    installed = await _install_expiring_soon(installs)
    answer = await installs.slash("handoff <@U2|maria> Acme: a review", team="T1", user="U1")
    assert "H-1 handed to" in answer["text"]
    (dm,) = await installs.fake.wait_for("chat.postMessage")
    (_old, new) = installs.fake.tokens_of("T1")
    assert len(installs.fake.refreshes()) == 1
    assert installs.fake.calls_to("auth.test")[-1].token == new  # the request was authorized with it
    assert {c.token for c in installs.fake.calls_to("users.info")} == {new}
    assert (dm.args["channel"], dm.token) == ("DU2", new)
    (stored,) = await rows(installs.bot.db, SlackInstallation)
    assert stored.bot_token == new and stored.bot_refresh_token != installed.bot_refresh_token


async def test_two_replicas_refreshing_at_once_both_go_on_and_keep_a_refresh_token_that_works(
        installs, schema_url, fake_slack):
    """Two `serve` processes on one database, each with its own lock: the outbox of one and a
    command to the other both trade the same refresh token. Slack takes it once; the other
    replica finds the winner's token saved, or goes on with the current one (good for an hour
    yet), instead of failing."""
    await _install_expiring_soon(installs)
    port = _free_port()
    other = Partnerbot(_settings(schema_url, fake_slack, port), clock=installs.clock)
    runner = web.AppRunner(build_web_app(other))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        replica = Installs(f"http://127.0.0.1:{port}", other, fake_slack, installs.http, installs.clock)
        await replica.install_page()  # the replica is up and serving
        fake_slack.delays["oauth.v2.access"] = 1.5  # a slow refresh: the other replica asks meanwhile
        traded = fake_slack.arrivals.count("oauth.v2.access")  # the install's code
        await _owe(installs.bot, "T1", "U1", "handoff <@U2|maria> Acme: a review")
        installs.bot.sender.wake()
        await fake_slack.wait_until(lambda: [m for m in fake_slack.arrivals if m == "oauth.v2.access"], traded + 1,
                                    10.0, "the first replica's refresh")
        answer = await replica.slash("commit send deck by fri", team="T1", user="U1")
        assert "C-1 saved" in answer["text"]
        messages = await _settled(installs.bot, 1)
        assert {m.status for m in messages} == {"sent"}
        assert [p.args["channel"] for p in fake_slack.posts()] == ["DU2"]
        trades = fake_slack.refreshes()
        assert [t.method for t in trades] == ["oauth.v2.access", "oauth.v2.access"]  # both tried, Slack took one
        assert trades[0].args["refresh_token"] == trades[1].args["refresh_token"]
        (stored,) = await rows(installs.bot.db, SlackInstallation)
        assert stored.bot_refresh_token in fake_slack.refresh_tokens  # the saved pair renews next time
        assert stored.bot_token == fake_slack.tokens_of("T1")[1]
    finally:
        await runner.cleanup()


async def test_an_expired_token_slack_will_not_refresh_parks_the_workspace_until_a_reinstall(installs):
    installed = await _install_expiring_soon(installs)
    installs.fake.expires_at[installed.bot_token] = time.time() - 1  # expired at Slack…
    async with installs.bot.db.session() as s:  # …and as we keep it
        await s.exec(SlackInstallation.__table__.update().values(
            bot_token_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    installs.fake.refresh_tokens.clear()  # its refresh token revoked too
    await _owe(installs.bot, "T1", "U1", "handoff <@U2|maria> Acme: a review")
    installs.bot.sender.wake()
    (parked,) = await _settled(installs.bot, 1)
    assert (parked.status, parked.last_error) == (
        "failed", "not installed in Slack workspace T1: token refresh refused (invalid_refresh_token)")
    assert installs.fake.posts() == []

    await installs.install("T1")
    (post,) = await installs.fake.wait_for("chat.postMessage")
    assert (post.args["channel"], post.token) == ("DU2", installs.fake.tokens_of("T1")[-1])


async def test_a_refresh_refused_while_the_token_still_works_sends_with_it_and_tries_again_next_time(
        installs, caplog):
    installed = await _install_expiring_soon(installs)
    installs.fake.refresh_tokens.clear()  # Slack refuses the refresh (the token has an hour left)
    await _owe(installs.bot, "T1", "U1", "handoff <@U2|maria> Acme: a review")
    installs.bot.sender.wake()
    (message,) = await _settled(installs.bot, 1)
    assert message.status == "sent" and installs.fake.posts()[0].token == installed.bot_token
    assert "refreshing the bot token failed" in caplog.text
    (stored,) = await rows(installs.bot.db, SlackInstallation)
    assert stored.bot_token == installed.bot_token  # nothing lost: the next use tries again


async def test_a_refresh_that_fails_on_slacks_side_after_expiry_is_retried_not_parked(installs):
    installed = await _install_expiring_soon(installs)
    installs.fake.expires_at[installed.bot_token] = time.time() - 1
    async with installs.bot.db.session() as s:
        await s.exec(SlackInstallation.__table__.update().values(
            bot_token_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    installs.fake.fail_next = [(500, "internal_error")]  # the refresh meets a Slack outage
    await _owe(installs.bot, "T1", "U1", "handoff <@U2|maria> Acme: a review")
    installs.bot.sender.wake()
    for _ in range(200):
        (message,) = await rows(installs.bot.db, OutboxMessage)
        if message.attempts:
            break
        await asyncio.sleep(0.05)
    assert (message.status, message.attempts) == ("pending", 1) and "internal_error" in message.last_error
    assert installs.fake.posts() == []

    installs.clock.now += timedelta(seconds=5)  # its retry is due
    installs.bot.sender.wake()
    (post,) = await installs.fake.wait_for("chat.postMessage")
    assert post.token == installs.fake.tokens_of("T1")[-1] != installed.bot_token
    assert [r.method for r in installs.fake.refreshes()] == ["oauth.v2.access#internal_error", "oauth.v2.access"]
