"""Multi-workspace Slack: workspaces install the app through the real /slack/install → Slack's
authorize page (the fake's) → /slack/oauth_redirect flow; then each workspace's commands, replies
and outbox messages go out with that workspace's own bot token (the fake records the token of
every call). Installations and OAuth states live in the project's database: SQLite, and
PostgreSQL with PARTNERBOT_TEST_BACKEND=postgres."""
from __future__ import annotations

import asyncio
import html
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from handlers.kernel.model import Command
from storage.models import Commitment, OutboxMessage, SlackInstallation, SlackOAuthState, Workspace
from tests.conftest import FixedClock
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, event_body, json_headers, signed_headers, slash_body
from tests.helpers import rows, snapshot

STATE_COOKIE = "slack-app-oauth-state"


def _free_port() -> int:
    """A port for `serve` known before it starts: PUBLIC_URL (the redirect URL) must name it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Installs:
    url: str
    bot: Partnerbot
    fake: FakeSlackApi
    http: aiohttp.ClientSession
    clock: FixedClock

    async def install_page(self, team: str | None = None) -> tuple[str, str]:
        """GET /slack/install: the "Add to Slack" link and the state cookie the page set."""
        response = await self.http.get(f"{self.url}/slack/install", params={"team": team} if team else None)
        assert response.status == 200, await response.text()
        page = await response.text()
        assert 'alt="Add to Slack"' in page
        (link,) = re.findall(r'<a href="([^"]+)"', page)
        return html.unescape(link), response.cookies[STATE_COOKIE].value

    async def install(self, team: str) -> aiohttp.ClientResponse:
        """The whole flow, as a browser does it: the page, Slack's authorize page, the redirect back."""
        link, cookie = await self.install_page(team)
        slack_says = await self.http.get(link, allow_redirects=False)
        assert slack_says.status == 302
        return await self.redirect(slack_says.headers["Location"], cookie)

    async def redirect(self, location: str, cookie: str | None) -> aiohttp.ClientResponse:
        headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie else {}
        return await self.http.get(location, headers=headers, allow_redirects=False)

    async def slash(self, text: str, *, team: str, user: str, channel: str = "C1") -> dict:
        body = slash_body(text, user=user, team=team, channel=channel)
        response = await self.http.post(f"{self.url}/slack/events", data=body, headers=signed_headers(body))
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.fixture
async def fake_slack():
    fake = await FakeSlackApi(timezones={"U1": "Europe/Berlin", "W1": "America/New_York"}).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def installs(schema_url, fake_slack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    port = _free_port()
    settings = load_settings({
        "DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_CLIENT_ID": "111.222",
        "SLACK_CLIENT_SECRET": "client-secret", "SLACK_API_URL": fake_slack.url,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    })
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    bot = Partnerbot(settings, clock=clock)
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as http:
        yield Installs(f"http://127.0.0.1:{port}", bot, fake_slack, http, clock)
    await runner.cleanup()


def _token(installs: Installs, team: str) -> str:
    (token,) = installs.fake.tokens_of(team)
    return token


async def test_the_install_page_links_to_slacks_authorize_page_with_our_app_scopes_and_redirect(installs):
    link, cookie = await installs.install_page()
    target = urlsplit(link)
    assert f"{target.scheme}://{target.netloc}{target.path}" == installs.fake.url.removesuffix("/api/") + \
        "/oauth/v2/authorize"
    query = parse_qs(target.query)
    assert query["client_id"] == ["111.222"]
    assert query["redirect_uri"] == [f"{installs.url}/slack/oauth_redirect"]
    assert query["scope"][0].split(",") == ["commands", "chat:write", "chat:write.public", "im:write", "users:read",
                                             "users:read.email"]
    assert query["state"] == [cookie]  # the browser that asked holds the state it must bring back
    (state,) = await rows(installs.bot.db, SlackOAuthState)
    assert state.state == cookie and state.expires_at == installs.clock.now + timedelta(minutes=10)


async def test_two_workspaces_install_and_each_is_answered_and_written_to_with_its_own_token(installs):
    for team in ("T1", "T2"):
        done = await installs.install(team)
        assert done.status == 200 and "Thank you!" in await done.text()
    stored = await rows(installs.bot.db, SlackInstallation)
    assert [(i.team_id, i.bot_token, i.user_id) for i in stored] == [
        ("T1", _token(installs, "T1"), "UADMIN"), ("T2", _token(installs, "T2"), "UADMIN")]
    assert _token(installs, "T1") != _token(installs, "T2")
    assert await rows(installs.bot.db, SlackOAuthState) == []  # both states used up

    answer = await installs.slash("commit send pricing deck to Acme by fri", team="T1", user="U1")
    assert "C-1 saved" in answer["text"] and "(Europe/Berlin)" in answer["text"]
    answer = await installs.slash("commit send the MSA to Globex by fri", team="T2", user="W1")
    assert "C-1 saved" in answer["text"] and "(America/New_York)" in answer["text"]  # numbered per workspace
    assert {(c.args["user"], c.token) for c in installs.fake.calls_to("users.info")} == {
        ("U1", _token(installs, "T1")), ("W1", _token(installs, "T2"))}

    # direct messages, sent by the outbox: each with its workspace's token
    assert "H-1 handed to" in (await installs.slash("handoff <@U2|maria> Acme: a review", team="T1", user="U1"))["text"]
    assert "H-1 handed to" in (await installs.slash("handoff <@W2|wen> Globex: a demo", team="T2", user="W1"))["text"]
    posts = await installs.fake.wait_for("chat.postMessage", 2)
    assert {(p.args["channel"], p.token) for p in posts} == {
        ("DU2", _token(installs, "T1")), ("DW2", _token(installs, "T2"))}
    assert {(c.args["users"], c.token) for c in installs.fake.calls_to("conversations.open")} == {
        ("U2", _token(installs, "T1")), ("W2", _token(installs, "T2"))}
    assert all(c.token is not None for c in installs.fake.calls if c.method != "oauth.v2.access")


async def test_a_forged_state_installs_nothing(installs):
    code = installs.fake.code_for("T1")
    done = await installs.redirect(f"{installs.url}/slack/oauth_redirect?{urlencode({'code': code, 'state': 'forged'})}",
                                   cookie="forged")
    assert done.status == 401 and "invalid_state" in await done.text()
    assert installs.fake.calls_to("oauth.v2.access") == []  # the code was never even traded
    assert await rows(installs.bot.db, SlackInstallation) == []


async def test_a_state_without_the_browser_cookie_that_asked_for_it_installs_nothing(installs):
    link, _cookie = await installs.install_page("T1")
    slack_says = await installs.http.get(link, allow_redirects=False)
    done = await installs.redirect(slack_says.headers["Location"], cookie=None)  # another browser
    assert done.status == 400 and "invalid_browser" in await done.text()
    assert await rows(installs.bot.db, SlackInstallation) == []


async def test_a_used_state_is_refused_the_second_time(installs):
    link, cookie = await installs.install_page("T1")
    slack_says = await installs.http.get(link, allow_redirects=False)
    location = slack_says.headers["Location"]
    assert (await installs.redirect(location, cookie)).status == 200
    state = parse_qs(urlsplit(location).query)["state"][0]
    # the same state again, even with a fresh code for another workspace
    replay = f"{installs.url}/slack/oauth_redirect?{urlencode({'code': installs.fake.code_for('T9'), 'state': state})}"
    again = await installs.redirect(replay, cookie)
    assert again.status == 401 and "invalid_state" in await again.text()
    assert [i.team_id for i in await rows(installs.bot.db, SlackInstallation)] == ["T1"]


async def test_a_state_older_than_ten_minutes_is_refused(installs):
    link, cookie = await installs.install_page("T1")
    slack_says = await installs.http.get(link, allow_redirects=False)
    installs.clock.now += timedelta(minutes=10, seconds=1)
    done = await installs.redirect(slack_says.headers["Location"], cookie)
    assert done.status == 401
    assert await rows(installs.bot.db, SlackInstallation) == []


async def test_a_code_slack_refuses_installs_nothing(installs):
    link, cookie = await installs.install_page("T1")
    state = parse_qs(urlsplit(link).query)["state"][0]
    done = await installs.redirect(
        f"{installs.url}/slack/oauth_redirect?{urlencode({'code': 'made-up', 'state': state})}", cookie)
    assert done.status == 401 and "invalid_code" in await done.text()
    assert await rows(installs.bot.db, SlackInstallation) == []


async def test_a_reinstall_replaces_the_token_and_later_messages_use_the_new_one(installs):
    await installs.install("T1")
    await installs.slash("handoff <@U2|maria> Acme: a review", team="T1", user="U1")
    (first,) = await installs.fake.wait_for("chat.postMessage")
    await installs.install("T1")
    old, new = installs.fake.tokens_of("T1")
    assert first.token == old
    (stored,) = await rows(installs.bot.db, SlackInstallation)
    assert stored.bot_token == new
    answer = await installs.slash("handoff <@U3|li> Acme: pricing", team="T1", user="U1")
    assert "H-2 handed to" in answer["text"]
    posts = await installs.fake.wait_for("chat.postMessage", 2)
    assert posts[1].args["channel"] == "DU3" and posts[1].token == new


async def test_a_message_for_a_workspace_without_an_installation_fails_with_the_reason(installs):
    await installs.install("T1")
    await installs.slash("commit send deck by fri", team="T1", user="U1")
    async with installs.bot.db.session() as s:  # uninstalled since
        await s.exec(SlackInstallation.__table__.delete())
    installs.bot.slack.installer.clients.forget(None)
    before = len(installs.fake.calls_to("chat.postMessage"))
    # something owed to T1 meanwhile (as the tick would write it)
    await installs.bot.dispatcher.dispatch(Command(platform="slack", workspace="T1", user="U1", user_name="u1",
                                                   text="handoff <@U2|maria> Acme: a review"))
    installs.bot.sender.wake()
    for _ in range(200):  # the outbox sender runs in `serve`
        (message,) = await rows(installs.bot.db, OutboxMessage)
        if message.status != "pending":
            break
        await asyncio.sleep(0.05)
    assert message.status == "failed" and message.last_error == (
        "not installed in Slack workspace T1: no installation (uninstalled, or never installed)")
    assert len(installs.fake.calls_to("chat.postMessage")) == before


async def test_a_command_from_a_workspace_that_has_not_installed_the_app_is_told_where_to_install(installs):
    await installs.install("T1")
    before = await snapshot(installs.bot.db)
    body = slash_body("commit send deck by fri", user="V1", team="T5").replace(
        "https%3A%2F%2Fhooks.slack.invalid%2Fcommands%2F1", installs.fake.response_url())
    response = await installs.http.post(f"{installs.url}/slack/events", data=body, headers=signed_headers(body))
    assert response.status == 200
    (told,) = await installs.fake.wait_for("response_url")
    assert told.args["text"] == (f"Partnerbot is not installed in this workspace yet: install it at "
                                 f"{installs.url}/slack/install")
    assert await snapshot(installs.bot.db) == before


async def test_an_org_wide_install_is_kept_for_the_org_and_answers_its_workspaces(installs):
    """Enterprise Grid: installed once for org E1 (no team), a command from its workspace T7 is
    authorized with the org's token."""
    link, cookie = await installs.install_page()
    state = parse_qs(urlsplit(link).query)["state"][0]
    code = installs.fake.code_for(None, enterprise="E1", is_enterprise_install=True)
    done = await installs.redirect(f"{installs.url}/slack/oauth_redirect?{urlencode({'code': code, 'state': state})}",
                                   cookie)
    assert done.status == 200
    (stored,) = await rows(installs.bot.db, SlackInstallation)
    assert (stored.enterprise_id, stored.team_id, stored.is_enterprise_install) == ("E1", "", True)
    body = slash_body("commit send deck by fri", user="U7", team="T7").replace(
        "is_enterprise_install=false", "is_enterprise_install=true&enterprise_id=E1")
    response = await installs.http.post(f"{installs.url}/slack/events", data=body, headers=signed_headers(body))
    assert response.status == 200 and "C-1 saved" in (await response.json())["text"]
    (org_token,) = installs.fake.token_teams
    assert [c.token for c in installs.fake.calls_to("auth.test")][-1] == org_token
    (commitment,) = await rows(installs.bot.db, Commitment)
    (workspace,) = await rows(installs.bot.db, Workspace, Workspace.id == commitment.workspace_id)
    assert workspace.external_id == "T7"  # the person's own workspace
    # what is owed to people of T7 later (the outbox knows the team only) goes with the org's token
    body = slash_body("handoff <@U8|ola> Acme: a review", user="U7", team="T7").replace(
        "is_enterprise_install=false", "is_enterprise_install=true&enterprise_id=E1")
    response = await installs.http.post(f"{installs.url}/slack/events", data=body, headers=signed_headers(body))
    assert "H-1 handed to" in (await response.json())["text"]
    (dm,) = await installs.fake.wait_for("chat.postMessage")
    assert (dm.args["channel"], dm.token) == ("DU8", org_token)
    assert {c.token for c in installs.fake.calls_to("users.info")} == {org_token}


async def test_single_workspace_mode_offers_no_install_page_and_an_uninstall_only_changes_nothing(
        schema_url, fake_slack, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                              "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake_slack.url})
    bot = Partnerbot(settings)
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            assert (await http.get(f"{url}/slack/install")).status == 404
            assert (await http.get(f"{url}/slack/oauth_redirect?code=x&state=y")).status == 404
            body = event_body({"type": "app_uninstalled"}, "EvU1")
            response = await http.post(f"{url}/slack/events", data=body, headers=json_headers(body))
            assert response.status == 200
    finally:
        await runner.cleanup()
    assert "SLACK_BOT_TOKEN no longer works" in caplog.text


@pytest.mark.parametrize("env, message", [
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"}, "not both"),
    ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together"),
    ({"SLACK_CLIENT_SECRET": "s"}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together"),
])
def test_serve_refuses_mixed_slack_credentials_with_one_line(env, message, tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    import os

    for name in [*os.environ]:  # the real environment, as `partnerbot serve` reads it: only what the test sets
        if name.startswith(("SLACK_", "PARTNERBOT_", "MICROSOFT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("partnerbot: configuration error: ") and message in error


def test_the_oauth_credentials_need_the_signing_secret(tmp_path, monkeypatch):
    from bot.config import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="need SLACK_SIGNING_SECRET"):
        load_settings({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"})
    settings = load_settings({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"})
    assert settings.slack_enabled and settings.slack_multi_workspace


async def test_the_ticks_reminders_go_to_each_workspace_with_its_own_token(installs):
    """`partnerbot tick`'s work: what the cadence owes people of two workspaces is sent with each one's token."""
    for team in ("T1", "T2"):
        await installs.install(team)
    await installs.slash("commit send pricing deck to Acme by fri", team="T1", user="U1")
    await installs.slash("commit send the MSA to Globex by fri", team="T2", user="W1")
    installs.clock.now += timedelta(days=8)  # both past due
    done, _sent = await installs.bot.tick()
    assert sum(done.values()) >= 2
    posts = await installs.fake.wait_for("chat.postMessage", 2)
    assert {(p.args["channel"], p.token) for p in posts} == {
        ("DU1", _token(installs, "T1")), ("DW1", _token(installs, "T2"))}
    assert "C-1" in posts[0].args["text"] and "C-1" in posts[1].args["text"]


async def _owe(installs: Installs, team: str, user: str, text: str) -> None:
    """Something owed to a workspace, written as the tick writes it (its commands may be refused meanwhile)."""
    await installs.bot.dispatcher.dispatch(Command(platform="slack", workspace=team, user=user, user_name=user.lower(),
                                                   text=text))
    installs.bot.sender.wake()


async def _settled(installs: Installs, count: int) -> list[OutboxMessage]:
    """The outbox once `count` messages are no longer pending (the sender in `serve` sends them)."""
    for _ in range(200):
        messages = await rows(installs.bot.db, OutboxMessage)
        if len([m for m in messages if m.status != "pending"]) >= count:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox never settled: {[(m.id, m.status) for m in messages]}")


async def test_an_uninstalled_workspace_is_parked_while_the_other_flows_and_a_reinstall_resumes_it(installs):
    for team in ("T1", "T2"):
        await installs.install(team)
    await installs.slash("commit send deck by fri", team="T1", user="U1")  # T1 has data
    body = event_body({"type": "app_uninstalled"}, "EvU1", team="T1")
    response = await installs.http.post(f"{installs.url}/slack/events", data=body, headers=json_headers(body))
    assert response.status == 200
    assert [i.team_id for i in await rows(installs.bot.db, SlackInstallation)] == ["T2"]

    await _owe(installs, "T1", "U1", "handoff <@U2|maria> Acme: a review")
    (parked,) = await _settled(installs, 1)
    assert parked.status == "failed" and parked.last_error.startswith("not installed in Slack workspace T1")
    await installs.slash("handoff <@W2|wen> Globex: a demo", team="T2", user="W1")  # the other keeps flowing
    (post,) = await installs.fake.wait_for("chat.postMessage")
    assert (post.args["channel"], post.token) == ("DW2", _token(installs, "T2"))
    assert len(await rows(installs.bot.db, Commitment)) == 1  # T1's data stays

    await installs.install("T1")
    posts = await installs.fake.wait_for("chat.postMessage", 2)
    (new_token,) = installs.fake.tokens_of("T1")[1:]
    assert (posts[1].args["channel"], posts[1].token) == ("DU2", new_token)
    assert "H-1" in posts[1].args["text"]
    assert {m.status for m in await _settled(installs, 2)} == {"sent"}


async def test_a_token_slack_refuses_parks_its_workspace_until_a_reinstall(installs):
    for team in ("T1", "T2"):
        await installs.install(team)
    installs.fake.revoked.add(_token(installs, "T1"))  # revoked without telling us
    await _owe(installs, "T1", "U1", "handoff <@U2|maria> Acme: a review")
    await _owe(installs, "T2", "W1", "handoff <@W2|wen> Globex: a demo")
    messages = await _settled(installs, 2)
    assert [(m.status, m.last_error) for m in messages] == [
        ("failed", "not installed in Slack workspace T1: invalid_auth"), ("sent", None)]
    await installs.install("T1")
    post = (await installs.fake.wait_for("chat.postMessage", 2))[1]
    assert (post.args["channel"], post.token) == ("DU2", installs.fake.tokens_of("T1")[1])
