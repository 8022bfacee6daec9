"""Slack over real HTTP: signed requests in, Web API calls out to a fake Slack on loopback."""
import asyncio
import json
import time
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from storage.models import Commitment, Handoff
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, button_body, signed_headers, slash_body
from tests.helpers import rows, snapshot


@dataclass
class SlackServer:
    url: str
    bot: Partnerbot
    fake: FakeSlackApi
    http: aiohttp.ClientSession

    async def post(self, body: str, headers: dict | None = None) -> aiohttp.ClientResponse:
        headers = signed_headers(body) if headers is None else headers
        return await self.http.post(f"{self.url}/slack/events", data=body, headers=headers)

    async def slash(self, text: str, user: str = "U1") -> dict:
        response = await self.post(slash_body(text, user=user))
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.fixture
async def fake_slack():
    fake = await FakeSlackApi(timezones={"U1": "Europe/Berlin", "U2": "America/New_York"}).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def slack(schema_url, fake_slack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({
        "DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake_slack.url,
    })
    bot = Partnerbot(settings)
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with aiohttp.ClientSession() as http:
        yield SlackServer(f"http://127.0.0.1:{runner.addresses[0][1]}", bot, fake_slack, http)
    await runner.cleanup()


async def test_the_callers_email_is_kept_where_slack_gives_it(slack):
    """With the users:read.email scope users.info has profile.email: it is stored with the
    person's Slack identity (org import and CRM mapping match people by it); without, none."""
    from storage.models import Identity

    slack.fake.emails["U1"] = "ana@example.com"
    await slack.slash("list")
    await slack.slash("list", user="U2")
    assert {i.external_id: i.email for i in await rows(slack.bot.db, Identity)} == {
        "U1": "ana@example.com", "U2": None}


async def test_slash_commit_answers_ephemerally_with_the_reference_in_the_users_slack_timezone(slack):
    answer = await slack.slash("commit send pricing deck to Acme by fri")
    assert answer["response_type"] == "ephemeral"
    assert "C-1 saved" in answer["text"] and "17:00 (Europe/Berlin)" in answer["text"]
    assert answer["blocks"][0]["text"]["text"].startswith("C-1 saved")
    assert [c.args["user"] for c in slack.fake.calls_to("users.info")] == ["U1"]
    await slack.slash("list")
    assert len(slack.fake.calls_to("users.info")) == 1  # looked up once, then remembered


async def test_done_drop_and_list_over_slack(slack):
    await slack.slash("commit a by fri")
    await slack.slash("commit b by fri")
    assert "C-1 kept" in (await slack.slash("done C-1"))["text"]
    assert "C-2 dropped" in (await slack.slash("drop C-2 customer paused"))["text"]
    listed = (await slack.slash("list mine"))["text"]
    assert "nothing open" in listed


async def test_list_a_partnership_over_slack_for_its_members_only(slack):
    assert (await slack.slash("partnership new Acme Alliance with <@U2|dana>"))["text"].startswith("P-1")
    assert "You manage side B of P-1" in (await slack.slash("partnership P-1 accept", user="U2"))["text"]
    await slack.slash("handoff <@U2|dana> Acme Corp: needs a security review")
    listed = (await slack.slash("list P-1", user="U2"))["text"]
    assert listed.splitlines()[0] == "Open items of P-1 Acme Alliance:"
    assert "H-1 · Acme Corp: needs a security review · identified" in listed
    refused = (await slack.slash("list P-1", user="U3"))["text"]
    assert "Only the members of P-1" in refused and "H-1" not in refused


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/x-www-form-urlencoded"},  # unsigned
    {**signed_headers("x"), "Content-Type": "application/x-www-form-urlencoded"},  # signed another body
    "wrong-secret",
    "stale",
])
async def test_requests_failing_verification_get_401_and_change_nothing(slack, db_url, headers):
    body = slash_body("commit send deck by fri")
    if headers == "wrong-secret":
        headers = signed_headers(body, secret="not-the-secret")
    elif headers == "stale":
        headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    response = await slack.post(body, headers)
    assert response.status == 401
    assert await rows(slack.bot.db, Commitment) == []


async def test_a_replayed_slash_command_is_not_carried_out_twice(slack):
    body = slash_body("commit send deck by fri")
    headers = signed_headers(body)
    first = await (await slack.post(body, headers)).json()
    before = await snapshot(slack.bot.db)
    again = await slack.post(body, headers)
    assert again.status == 200
    assert "C-1" in first["text"] and "already handled" in (await again.json())["text"]
    assert await snapshot(slack.bot.db) == before


async def test_bad_input_over_slack_gets_a_reason_and_the_usage(slack):
    answer = await slack.slash("commit send deck")
    assert "needs a date" in answer["text"] and "Usage: `commit" in answer["text"]
    assert "don't know the verb" in (await slack.slash("dance"))["text"]


async def test_handoff_dms_the_receiver_whose_accept_button_updates_the_message_and_tells_the_sender(slack):
    answer = await slack.slash("handoff <@U2|maria> Acme Corp: needs a security review by fri")
    assert "H-1 handed to maria" in answer["text"]

    (opened,) = await slack.fake.wait_for("conversations.open")
    assert opened.args["users"] == "U2"
    (dm,) = await slack.fake.wait_for("chat.postMessage")
    assert dm.args["channel"] == "DU2"
    assert all(s in dm.args["text"] for s in ("H-1", "Acme Corp", "needs a security review", "u1"))
    buttons = [e for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("Accept", "handoff H-1 accept"), ("Decline", "handoff H-1 decline")]

    click = button_body(buttons[0]["value"], user="U2", channel="DU2", message_ts="1.000100",
                        action_id=buttons[0]["action_id"])
    assert (await slack.post(click)).status == 200
    (update,) = await slack.fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("DU2", "1.000100")
    assert "You accepted H-1" in update.args["text"]
    assert "actions" not in json.dumps(update.args["blocks"])  # no buttons left to click
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert posts[1].args["channel"] == "DU1" and "maria accepted H-1" in posts[1].args["text"]
    (h,) = await rows(slack.bot.db, Handoff)
    assert h.accepted_at is not None


async def test_someone_elses_click_is_refused_privately_and_changes_nothing(slack):
    await slack.slash("handoff <@U2> Acme Corp: needs a security review")
    await slack.fake.wait_for("chat.postMessage")
    before = await snapshot(slack.bot.db)
    click = button_body("handoff H-1 accept", user="U3", channel="DU2", message_ts="1.000100")
    assert (await slack.post(click)).status == 200
    (ephemeral,) = await slack.fake.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == "U3" and "Only the rep" in ephemeral.args["text"]
    assert slack.fake.calls_to("chat.update") == []
    after = await snapshot(slack.bot.db)
    assert after == before


def _buttons(view: dict) -> list[str]:
    return [e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_app_home_shows_the_scorecard_and_open_items_and_a_retried_event_publishes_once(slack):
    from tests.fakes.slack_requests import event_body, json_headers

    await slack.slash("commit send pricing deck to Acme by fri")
    body = event_body({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "DU1"}, "Ev1")
    assert (await slack.post(body, json_headers(body))).status == 200
    (published,) = await slack.fake.wait_for("views.publish")
    view = published.args["view"]
    assert published.args["user_id"] == "U1" and view["type"] == "home"
    assert "Scorecard" in json.dumps(view) and "send pricing deck" in json.dumps(view)
    assert _buttons(view) == ["done C-1"]
    retry = {**json_headers(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await slack.post(body, retry)).status == 200
    await asyncio.sleep(0.5)
    assert len(slack.fake.calls_to("views.publish")) == 1
    again = event_body({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "DU1"}, "Ev2")
    assert (await slack.post(again, json_headers(again))).status == 200  # a new opening: published again
    await slack.fake.wait_for("views.publish", count=2)


async def test_done_on_the_home_tab_keeps_the_commitment_and_republishes_the_tab(slack):
    from tests.fakes.slack_requests import home_button_body

    await slack.slash("commit send pricing deck to Acme by fri")
    await slack.slash("commit book the QBR room by fri")
    assert (await slack.post(home_button_body("done C-1", user="U1"))).status == 200
    (published,) = await slack.fake.wait_for("views.publish")
    view = published.args["view"]
    assert "C-1" in view["blocks"][1]["text"]["text"] and "kept" in view["blocks"][1]["text"]["text"]
    assert _buttons(view) == ["done C-2"]  # C-1 is no longer open
    (c1,) = await rows(slack.bot.db, Commitment, Commitment.number == 1)
    assert c1.status == "done"
    # someone else's commitment clicked from their own tab: refused there, nothing changes
    before = await snapshot(slack.bot.db)
    assert (await slack.post(home_button_body("done C-2", user="U2"))).status == 200
    second = (await slack.fake.wait_for("views.publish", count=2))[1]
    assert second.args["user_id"] == "U2" and ":warning:" in second.args["view"]["blocks"][1]["text"]["text"]
    assert await snapshot(slack.bot.db) == before
