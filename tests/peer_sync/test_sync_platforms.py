"""The weekly peer sync as people see it, over the real endpoints of one in-process `serve`:
signed Slack requests to /slack/events (Web API calls go to a fake Slack on loopback) and Bot
Framework activities to /api/messages (replies go to a fake connector at serviceUrl).

Ana (Slack U1, Teams aad-ana once linked) and Dana (Slack U2) manage P-1 Acme Alliance.
"""
from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from storage.models import Commitment, PartnershipChannel, PeerSync, SyncAnswer
from tests.conftest import FixedClock
from tests.fakes.slack_api import Call, FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, button_body, signed_headers, slash_body, view_submission_body
from tests.fakes.teams_connector import BOT, FakeConnector, Posted, mention, message, person
from tests.helpers import NO_SLACK_PACE, TEAMS_ON_LOOPBACK, rows, snapshot

UTC = timezone.utc
QUESTION_IDS = ["results", "people", "working", "change", "commit", "problems"]
ANA_ANSWERS = {"results": "Closed Globex & Initech", "people": "Rita ramping well", "working": "joint demos",
               "change": "faster quotes", "commit": "- send the Q1 plan\n* book the EMEA webinar",
               "problems": "pricing overlap on <mid-market> deals"}
DANA_ANSWERS = {"results": "Two joint pipeline reviews", "people": "Sam needs coaching", "working": "shared Slack",
                "change": "earlier intros", "commit": "draft the joint case study", "problems": "territory rules"}

ANA_TEAMS = person("aad-ana", "Ana")
MARIA = person("aad-maria", "Maria")
TEAMS_CHANNEL = "19:channel@thread.tacv2"


# --- one bot, both platforms ------------------------------------------------------------------
@dataclass
class Platforms:
    url: str
    bot: Partnerbot
    slack: FakeSlackApi
    connector: FakeConnector
    http: aiohttp.ClientSession
    clock: FixedClock

    # Slack ------------------------------------------------------------------------------
    async def slack_post(self, body: str) -> aiohttp.ClientResponse:
        response = await self.http.post(f"{self.url}/slack/events", data=body, headers=signed_headers(body))
        assert response.status == 200, await response.text()
        return response

    async def slash(self, text: str, user: str = "U1", channel: str = "C1") -> dict:
        """`/partner <text>`: Slack's answer to the slash command (the ephemeral ack)."""
        body = slash_body(text, user=user, channel=channel, user_name={"U1": "ana", "U2": "dana"}.get(user))
        return await (await self.slack_post(body)).json()

    async def slash_opening(self, text: str, user: str = "U1", channel: str = "C1") -> tuple[dict, str, dict]:
        """A slash command whose answer is a form: the ack, its trigger_id and the modal opened."""
        opened_before = len(self.slack.calls_to("views.open"))
        body = slash_body(text, user=user, channel=channel, user_name={"U1": "ana", "U2": "dana"}.get(user))
        ack = await (await self.slack_post(body)).json()
        opened = (await self.slack.wait_for("views.open", opened_before + 1))[-1]
        return ack, parse_qs(body)["trigger_id"][0], opened.args

    async def click(self, button: dict, user: str, channel: str, ts: str = "1.000100") -> str:
        """Click a Block Kit button of a message; returns the click's trigger_id."""
        body = button_body(button["value"], user=user, channel=channel, message_ts=ts, action_id=button["action_id"])
        await self.slack_post(body)
        return json.loads(parse_qs(body)["payload"][0])["trigger_id"]

    async def submit(self, view: dict, answers: dict, user: str = "U1") -> dict | None:
        """Submit a modal as Slack does; the ack's JSON (None for an empty ack: the modal closes)."""
        response = await self.slack_post(view_submission_body(view, answers, user=user))
        text = await response.text()
        return json.loads(text) if text else None

    def posts_to(self, channel: str) -> list[Call]:
        return [c for c in self.slack.calls_to("chat.postMessage") if c.args["channel"] == channel]

    async def wait_post(self, channel: str, containing: str, timeout: float = 10.0) -> Call:
        """The first chat.postMessage to `channel` whose text contains `containing`."""
        found = await self.slack.wait_until(
            lambda: [c for c in self.posts_to(channel) if containing in c.args["text"]], 1, timeout,
            f"chat.postMessage to {channel} containing {containing!r}")
        return found[0]

    async def opened_modal(self, count: int) -> dict:
        return (await self.slack.wait_for("views.open", count))[count - 1].args

    # Teams ------------------------------------------------------------------------------
    async def teams_say(self, text: str | None, sender: dict = ANA_TEAMS, **kw) -> dict:
        activity = message(text, sender=sender, service_url=self.connector.url, **kw)
        response = await self.http.post(f"{self.url}/api/messages", json=activity)
        assert response.status in (200, 201), await response.text()
        return activity

    async def teams_wait(self, conversation: str, containing: str, timeout: float = 10.0) -> Posted:
        found = await self.connector.wait_until(
            lambda: [p for p in self.connector.to(conversation) if containing in p.fallback], 1, timeout,
            f"activity in {conversation} containing {containing!r}")
        return found[0]


@pytest.fixture
async def platforms(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # built-in defaults: peer sync Mondays 09:00, reminders 24 h before due
    slack = await FakeSlackApi(timezones={"U1": "Europe/Berlin", "U2": "America/New_York"}).start()
    connector = await FakeConnector().start()
    clock = FixedClock()  # Mon 23 Nov 2026, 10:00 UTC: week 2026-W48 for both managers
    bot = Partnerbot(load_settings({
        "DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.url, **NO_SLACK_PACE, **TEAMS_ON_LOOPBACK,
    }), clock)
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))  # the outbox sender runs in-process, as in `serve`
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Platforms(f"http://127.0.0.1:{runner.addresses[0][1]}", bot, slack, connector, http, clock)
    finally:
        await runner.cleanup()
        await slack.stop()
        await connector.stop()


# --- what a Slack message must be for Slack to take it ------------------------------------------
def assert_valid_slack_message(args: dict) -> list[dict]:
    """Slack's documented limits for chat.postMessage: text fallback, ≤ 50 blocks, section text
    ≤ 3000 characters, ≤ 10 fields of ≤ 2000 characters, unique action ids. Returns the blocks."""
    assert args["text"].strip(), "no text fallback for notifications"
    blocks = args["blocks"]
    assert 0 < len(blocks) <= 50, f"{len(blocks)} blocks"
    action_ids = []
    for block in blocks:
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000, len(block["text"]["text"])
            if "fields" in block:
                assert 0 < len(block["fields"]) <= 10
                assert all(0 < len(f["text"]) <= 2000 for f in block["fields"])
        elif block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["value"]) <= 2000 and len(element["text"]["text"]) <= 75
                action_ids.append(element["action_id"])
    assert len(action_ids) == len(set(action_ids))
    return blocks


def shown_text(blocks: list[dict]) -> str:
    """Everything the blocks display, in order (what a Slack client shows instead of `text`)."""
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(f["text"] for f in block.get("fields", ()))
    return "\n".join(parts)


def buttons_of(call: Call) -> list[dict]:
    return [e for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"]]


def inputs_of(view: dict) -> list[dict]:
    return [b for b in view["blocks"] if b["type"] == "input"]


def slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- shared steps ----------------------------------------------------------------------------
async def start_p1(p: Platforms) -> None:
    ack = await p.slash("partnership new Acme Alliance with <@U2|Dana>", channel="C1")
    assert "P-1 Acme Alliance proposed" in ack["text"] and "This channel is bound" in ack["text"]
    assert "You manage side B of P-1" in (await p.slash("partnership P-1 accept", user="U2", channel="DU2"))["text"]


async def ana_answers(p: Platforms) -> dict:
    """Ana runs `/partner sync now` in C1 and submits the modal; returns the modal."""
    ack, _, opened = await p.slash_opening("sync now")
    assert "Opening the S-1 form" in ack["text"]
    assert await p.submit(opened["view"], ANA_ANSWERS) is None  # accepted: the modal closes
    await p.wait_post("DU1", "Your S-1 answer is saved")
    return opened["view"]


async def dana_answers_from_the_prompt(p: Platforms) -> dict:
    """Dana clicks Answer on her prompt and submits the modal it opens; returns that modal."""
    prompt = await p.wait_post("DU2", "Time for your weekly peer sync S-1")
    (answer,) = [b for b in buttons_of(prompt) if b["text"]["text"] == "Answer"]
    opened_before = len(p.slack.calls_to("views.open"))
    await p.click(answer, user="U2", channel="DU2")
    view = (await p.opened_modal(opened_before + 1))["view"]
    assert await p.submit(view, DANA_ANSWERS, user="U2") is None
    return view


# --- 1. Slack: the whole week's sync --------------------------------------------------------------
async def test_slack_sync_now_opens_the_modal_pledges_become_commitments_and_the_digest_goes_everywhere(platforms):
    p = platforms
    await start_p1(p)

    ack, trigger_id, opened = await p.slash_opening("sync now")
    assert ack["response_type"] == "ephemeral" and ack["text"] == "Opening the S-1 form (P-1 Acme Alliance)."
    assert opened["trigger_id"] == trigger_id  # the slash command's own trigger
    view = opened["view"]
    assert view["type"] == "modal" and view["title"]["text"] == "Peer sync S-1" and view["submit"]["text"] == "Submit"
    assert json.loads(view["private_metadata"]) == {"command": "sync submit S-1", "channel": "C1", "direct": False}
    assert [(b["block_id"], b["label"]["text"], b["element"]["multiline"], b["optional"]) for b in inputs_of(view)] == [
        ("results", "Results since the last sync", True, True),
        ("people", "Update on individual salespeople", True, True),
        ("working", "What is working", True, True),
        ("change", "What needs to change", True, True),
        ("commit", "What I commit to this week", True, True),
        ("problems", "Problems to resolve together", True, True),
    ]
    assert inputs_of(view)[4]["hint"]["text"] == "One commitment per line."

    # Ana submits with two pledge lines: C-1 and C-2, and a direct message saying so
    assert await p.submit(view, ANA_ANSWERS) is None
    told = await p.wait_post("DU1", "Your S-1 answer is saved")
    assert "New commitments: C-1, C-2" in told.args["text"] and "Waiting for Dana" in told.args["text"]
    pledges = await rows(p.bot.db, Commitment)
    assert sorted((c.number, c.what, c.status) for c in pledges) == [
        (1, "send the Q1 plan", "open"), (2, "book the EMEA webinar", "open")]
    assert {c.due_at.isoformat() for c in pledges} == {"2026-11-30T08:00:00+00:00"}  # next Monday 09:00 Berlin

    # a second submit of the same modal is refused in the modal; the first answer stands
    before = await snapshot(p.bot.db)
    refused = await p.submit(view, {**ANA_ANSWERS, "results": "a different story", "commit": "something else"})
    assert refused["response_action"] == "update"
    reason = refused["view"]["blocks"][0]["text"]["text"]
    assert "You already answered S-1, so this second submit was not saved" in reason
    assert "sync edit S-1" in reason
    assert {b["block_id"]: b["element"].get("initial_value") for b in inputs_of(refused["view"])}["results"] \
        == "a different story"  # what they typed is kept on screen
    assert await snapshot(p.bot.db) == before
    (ana_answer,) = [a for a in await rows(p.bot.db, SyncAnswer) if a.answered_at]
    assert ana_answer.answers == ANA_ANSWERS and ana_answer.edited_at is None

    # Dana was prompted by direct message, with an Answer button that opens the same form
    prompt = await p.wait_post("DU2", "Time for your weekly peer sync S-1")
    assert_valid_slack_message(prompt.args)
    assert [(b["text"]["text"], b["value"]) for b in buttons_of(prompt)] == [("Answer", "sync answer S-1")]
    click_trigger = await p.click(buttons_of(prompt)[0], user="U2", channel="DU2")
    dana_view = (await p.opened_modal(2))
    assert dana_view["trigger_id"] == click_trigger
    assert json.loads(dana_view["view"]["private_metadata"])["command"] == "sync submit S-1"
    assert [b["block_id"] for b in inputs_of(dana_view["view"])] == QUESTION_IDS
    await asyncio.sleep(0.2)
    assert p.slack.calls_to("chat.postEphemeral") == []  # the modal is the answer to the click

    # Dana submits: both answered, the side-by-side digest goes to both managers and C1
    assert await p.submit(dana_view["view"], DANA_ANSWERS, user="U2") is None
    told = await p.wait_post("DU2", "Your S-1 answer is saved")
    assert "New commitments: C-3" in told.args["text"] and "digest is on its way" in told.args["text"]
    digests = [await p.wait_post(where, "Peer sync S-1 · P-1 Acme Alliance") for where in ("C1", "DU1", "DU2")]
    # one digest; the channel's copy ends in a line mentioning both managers, so that they are notified
    channel_blocks, *direct = [d.args["blocks"] for d in digests]
    assert channel_blocks[-1]["text"]["text"] == "cc <@U1> <@U2>" and digests[0].args["text"].endswith("cc <@U1> <@U2>")
    assert {json.dumps(b) for b in direct} == {json.dumps(channel_blocks[:-1])}
    blocks = assert_valid_slack_message(digests[0].args)
    assert "Both managers answered." in digests[0].args["text"]
    for qid, label in zip(QUESTION_IDS, ("Results since the last sync", "Update on individual salespeople",
                                         "What is working", "What needs to change", "What I commit to this week",
                                         "Problems to resolve together")):
        (heading,) = [i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == f"*{label}*"]
        side_by_side = blocks[heading + 1]["fields"]  # one field per manager: the two answers next to each other
        assert [slack_unescape(f["text"]) for f in side_by_side] == [
            f"*ana*\n{ANA_ANSWERS[qid]}", f"*Dana*\n{DANA_ANSWERS[qid]}"]
    assert "&lt;mid-market&gt;" in shown_text(blocks)  # escaped: Slack shows it as typed
    assert len(p.posts_to("C1")) == 1
    (s1,) = await rows(p.bot.db, PeerSync)
    assert s1.digest_at is not None


# --- 2. a Teams channel bound to the Slack partnership gets the digest too -----------------------
async def test_a_linked_manager_binds_a_teams_channel_and_the_digest_is_posted_there(platforms):
    p = platforms
    await start_p1(p)
    code = re.search(r"link code is (\w+)", (await p.slash("link", channel="DU1"))["text"]).group(1)
    await p.teams_say(f"link {code}")
    await p.slash("link confirm", channel="DU1")  # the code's issuer confirms, on Slack
    assert "one person" in (await p.teams_wait("a:personal-aad-ana", "Linked")).fallback

    bind = await p.teams_say("<at>Partnerbot</at> partnership P-1 channel", channel=True, entities=[mention(BOT)])
    bound = await p.teams_wait(TEAMS_CHANNEL, "bound to P-1")
    assert "This channel is now bound to P-1 Acme Alliance" in bound.fallback
    assert sorted((b.platform, b.channel) for b in await rows(p.bot.db, PartnershipChannel)) == [
        ("slack", "C1"), ("teams", TEAMS_CHANNEL)]

    await ana_answers(p)
    await dana_answers_from_the_prompt(p)
    await p.wait_post("C1", "Peer sync S-1 · P-1 Acme Alliance")
    digest = await p.teams_wait(TEAMS_CHANNEL, "Peer sync S-1 · P-1 Acme Alliance")
    assert digest.method == "POST" and digest.reply_to != bind["id"]  # its own message, not an answer to the bind
    assert digest.activity["conversation"]["id"] == TEAMS_CHANNEL
    card = digest.card
    assert card["type"] == "AdaptiveCard" and "Both managers answered." in digest.fallback
    results = next(i for i, e in enumerate(card["body"]) if e.get("text") == "Results since the last sync")
    assert card["body"][results + 1] == {"type": "FactSet", "facts": [
        {"title": "ana", "value": ANA_ANSWERS["results"]}, {"title": "Dana", "value": DANA_ANSWERS["results"]}]}
    assert "actions" not in card  # nothing to click in a digest
    # the managers themselves get it where they are: on Slack, not in Ana's Teams chat
    assert [x for x in p.connector.to("a:personal-aad-ana") if "Peer sync S-1 ·" in x.fallback] == []
    assert len(p.connector.to(TEAMS_CHANNEL)) == 2


# --- 3. Teams: the form as an Adaptive Card in a 1:1 chat ---------------------------------------------
async def test_teams_sync_now_in_a_personal_chat_is_a_card_with_inputs_whose_submit_saves_the_answer(platforms):
    p = platforms
    chat = "a:personal-aad-ana"
    await p.teams_say("partnership new Globex Alliance with <at>Maria</at>", entities=[mention(MARIA)])
    created = await p.teams_wait(chat, "P-1 Globex Alliance proposed")
    assert "partnership P-1 channel" in created.fallback  # a 1:1 chat binds nothing
    # Maria never talked to the bot: the invitation waits for her first message, her accept
    assert p.connector.to("a:personal-aad-maria") == []
    await p.teams_say("partnership P-1 accept", sender=MARIA)
    await p.teams_wait("a:personal-aad-maria", "proposes P-1 Globex Alliance")
    await p.teams_wait("a:personal-aad-maria", "You manage side B of P-1")

    await p.teams_say("sync now")
    form = await p.teams_wait(chat, "Opening the S-1 form")
    card = form.card
    inputs = [e for e in card["body"] if e["type"] == "Input.Text"]
    assert [(i["id"], i["label"], i["isMultiline"]) for i in inputs] == [
        ("results", "Results since the last sync", True), ("people", "Update on individual salespeople", True),
        ("working", "What is working", True), ("change", "What needs to change", True),
        ("commit", "What I commit to this week", True), ("problems", "Problems to resolve together", True)]
    (submit,) = card["actions"]
    assert submit["title"] == "Submit"
    assert submit["data"] == {"command": "sync submit S-1", "pb_form": True, "pb_inputs": QUESTION_IDS}

    # Teams merges the inputs into the submit's data (Windows line ends; an empty input left out)
    typed = {"results": "Closed Initech", "working": "weekly calls",
             "commit": "call the Globex CFO\r\n\r\n2) share the pricing sheet"}
    await p.teams_say(None, value={**submit["data"], **typed}, reply_to="activity-form")
    result = await p.teams_wait(chat, "Your S-1 answer is saved")
    assert result.method == "PUT" and result.reply_to == "activity-form"  # the filled form is replaced
    assert "New commitments: C-1, C-2" in result.fallback and "Waiting for Maria" in result.fallback
    assert [i for i in result.card["body"] if i["type"] == "Input.Text"] == []
    (mine,) = [a for a in await rows(p.bot.db, SyncAnswer) if a.answered_at]
    assert mine.answers == {"results": "Closed Initech", "people": "", "working": "weekly calls", "change": "",
                            "commit": "call the Globex CFO\r\n\r\n2) share the pricing sheet", "problems": ""}
    assert sorted(c.what for c in await rows(p.bot.db, Commitment)) == ["call the Globex CFO", "share the pricing sheet"]

    # Maria talked to the bot when she accepted: her prompt comes to her chat and she answers from it
    prompt = await p.teams_wait("a:personal-aad-maria", "Time for your weekly peer sync S-1")
    assert prompt.submits == [("Answer", "sync answer S-1")]
    await p.teams_say(None, sender=MARIA, value={"command": "sync answer S-1"}, reply_to="activity-prompt")
    her_form = await p.teams_wait("a:personal-aad-maria", "Opening the S-1 form")
    data = her_form.card["actions"][0]["data"]
    await p.teams_say(None, sender=MARIA, value={**data, "results": "Globex renewal signed"}, reply_to="activity-f2")
    await p.teams_wait("a:personal-aad-maria", "digest is on its way")
    for conversation in (chat, "a:personal-aad-maria"):
        digest = await p.teams_wait(conversation, "Peer sync S-1 · P-1 Globex Alliance")
        facts = next(e for i, e in enumerate(digest.card["body"]) if e["type"] == "FactSet")
        assert facts["facts"] == [{"title": "Ana", "value": "Closed Initech"},
                                  {"title": "Maria", "value": "Globex renewal signed"}]


# --- 4. Drop from a reminder's button asks for the reason in a modal -------------------------------------
async def test_drop_from_a_slack_reminder_asks_the_reason_in_a_modal_and_drops_with_it(platforms):
    p = platforms
    await start_p1(p)
    _, _, opened = await p.slash_opening("sync now")
    assert await p.submit(opened["view"], {"commit": "send the Q1 plan"}) is None
    await p.wait_post("DU1", "New commitments: C-1")

    # a day before the pledge is due (next Monday 09:00 Berlin) the reminder comes with its buttons
    p.clock.now = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
    done = await p.bot.run_cadence()
    assert done["commitment reminders"] == 1
    reminder = await p.wait_post("DU1", "Reminder: C-1 is due")
    assert_valid_slack_message(reminder.args)
    assert [(b["text"]["text"], b["value"], b.get("style")) for b in buttons_of(reminder)] == [
        ("Done", "done C-1", "primary"), ("Snooze 1 day", "snooze C-1", None), ("Drop", "drop C-1", "danger")]

    opened_before = len(p.slack.calls_to("views.open"))
    trigger = await p.click(buttons_of(reminder)[2], user="U1", channel="DU1", ts="7.000100")
    modal = await p.opened_modal(opened_before + 1)
    assert modal["trigger_id"] == trigger
    view = modal["view"]
    assert view["title"]["text"] == "Drop C-1" and view["submit"]["text"] == "Drop"
    assert json.loads(view["private_metadata"]) == {"command": "drop C-1", "channel": "DU1", "direct": True}
    (reason_input,) = inputs_of(view)
    assert reason_input["block_id"] == "reason" and reason_input["element"]["multiline"] is False
    (c1,) = await rows(p.bot.db, Commitment)
    assert c1.status == "open"  # the click alone changes nothing

    # an empty reason is refused in the modal; a reason drops it
    refused = await p.submit(view, {"reason": ""})
    assert refused == {"response_action": "errors", "errors": {"reason": "Give a reason, so your partner knows why."}}
    assert (await rows(p.bot.db, Commitment))[0].status == "open"
    assert await p.submit(view, {"reason": "customer paused the project"}) is None
    told = await p.wait_post("DU1", "C-1 dropped")
    assert "Reason: customer paused the project" in told.args["text"]
    (c1,) = await rows(p.bot.db, Commitment)
    assert (c1.status, c1.close_note, c1.cadence_at) == ("dropped", "customer paused the project", None)


# --- 5. after the digest the answers are closed ----------------------------------------------------------
async def test_a_submit_after_the_digest_went_out_is_refused_with_the_reason_and_changes_nothing(platforms):
    p = platforms
    await start_p1(p)
    await ana_answers(p)
    # Ana opens the edit form before the digest…
    _, _, edit = await p.slash_opening("sync edit S-1")
    edit_view = edit["view"]
    assert json.loads(edit_view["private_metadata"])["command"] == "sync submit S-1 edit"
    assert {b["block_id"]: b["element"].get("initial_value") for b in inputs_of(edit_view)} == ANA_ANSWERS
    # …Dana answers, the digest goes out…
    dana_view = await dana_answers_from_the_prompt(p)
    await p.wait_post("C1", "Peer sync S-1")
    answers_before = {a.person_id: a.answers for a in await rows(p.bot.db, SyncAnswer)}
    before = await snapshot(p.bot.db)

    # …and Ana's edit submitted now is refused in the modal, with why; nothing changes
    refused = await p.submit(edit_view, {**ANA_ANSWERS, "commit": "a brand new pledge"})
    assert refused["response_action"] == "update"
    assert "The digest of S-1 went out" in refused["view"]["blocks"][0]["text"]["text"]
    assert "its answers are closed" in refused["view"]["blocks"][0]["text"]["text"]
    # a plain submit of Dana's form again, and `sync now`, are refused too
    again = await p.submit(dana_view, {**DANA_ANSWERS, "results": "second thoughts"}, user="U2")
    assert again["response_action"] == "update" and "The digest of S-1 went out" in json.dumps(again)
    assert "is closed: its digest went out" in (await p.slash("sync now"))["text"]
    assert await snapshot(p.bot.db) == before
    assert {a.person_id: a.answers for a in await rows(p.bot.db, SyncAnswer)} == answers_before
    assert sorted(c.what for c in await rows(p.bot.db, Commitment)) == [
        "book the EMEA webinar", "draft the joint case study", "send the Q1 plan"]
    await asyncio.sleep(0.2)
    assert len(p.posts_to("C1")) == 1  # no second digest


# --- what Slack's limits must not swallow -----------------------------------------------------------
async def test_long_answers_are_shown_whole_in_the_slack_digest_within_slacks_block_limits(platforms):
    """Slack's modal takes up to 3000 characters an answer; a field holds 2000 and a section 3000.
    Each answer must still be shown whole (a client shows the blocks, not the text fallback)."""
    p = platforms
    await start_p1(p)
    long_ana = " ".join(f"Deal {i} & co: closed <on time>." for i in range(100))[:2990]
    long_dana = " ".join(f"Pipeline review {i} went well." for i in range(120))[:2990]
    _, _, opened = await p.slash_opening("sync now")
    assert await p.submit(opened["view"], {**ANA_ANSWERS, "results": long_ana}) is None
    await p.wait_post("DU1", "Your S-1 answer is saved")
    prompt = await p.wait_post("DU2", "Time for your weekly peer sync S-1")
    await p.click(buttons_of(prompt)[0], user="U2", channel="DU2")
    view = (await p.opened_modal(2))["view"]
    assert await p.submit(view, {**DANA_ANSWERS, "results": long_dana}, user="U2") is None

    digest = await p.wait_post("C1", "Peer sync S-1 · P-1 Acme Alliance")
    blocks = assert_valid_slack_message(digest.args)
    shown = " ".join(slack_unescape(shown_text(blocks)).split())  # a long answer may span sections
    assert " ".join(long_ana.split()) in shown and " ".join(long_dana.split()) in shown
    for answers in (ANA_ANSWERS, DANA_ANSWERS):
        assert all(" ".join(v.split()) in shown for k, v in answers.items() if k != "results")


async def test_next_weeks_slack_digest_lists_every_one_of_last_weeks_pledges(platforms):
    """Twelve pledges last week: all twelve in the Slack digest, not the first ten of a section."""
    p = platforms
    await start_p1(p)
    ana_pledges = [f"ana pledge {i}" for i in range(1, 7)]
    dana_pledges = [f"dana pledge {i}" for i in range(1, 7)]
    _, _, opened = await p.slash_opening("sync now")
    assert await p.submit(opened["view"], {"commit": "\n".join(ana_pledges)}) is None
    await p.wait_post("DU1", "New commitments: C-1, C-2, C-3, C-4, C-5, C-6")
    prompt = await p.wait_post("DU2", "Time for your weekly peer sync S-1")
    await p.click(buttons_of(prompt)[0], user="U2", channel="DU2")
    assert await p.submit((await p.opened_modal(2))["view"], {"commit": "\n".join(dana_pledges)}, user="U2") is None
    await p.wait_post("C1", "Peer sync S-1")
    assert "C-1 kept" in (await p.slash("done C-1", channel="DU1"))["text"]

    p.clock.now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # next Monday: week 2026-W49
    _, _, opened = await p.slash_opening("sync now")
    assert "S-2" in opened["view"]["title"]["text"]
    assert await p.submit(opened["view"], {"results": "a quiet week"}) is None
    prompt = await p.wait_post("DU2", "Time for your weekly peer sync S-2")
    await p.click(buttons_of(prompt)[0], user="U2", channel="DU2")
    assert await p.submit((await p.opened_modal(4))["view"], {"results": "busy week"}, user="U2") is None

    digest = await p.wait_post("C1", "Peer sync S-2")
    assert "Last week's pledges (S-1)" in digest.args["text"]
    blocks = assert_valid_slack_message(digest.args)
    shown = shown_text(blocks)
    for n, what in enumerate(ana_pledges + dana_pledges, 1):
        assert f"C-{n} · " in shown and what in shown, f"C-{n} ({what}) is not shown"
    assert "ana pledge 1: kept" in shown and "dana pledge 6: missed" in shown


# --- Teams channels: a channel is one channel, whichever post a command was typed in ------------------
async def test_a_teams_channel_is_bound_once_from_any_thread_and_digests_start_a_new_post(platforms):
    """In a Teams channel each message arrives in the conversation of its post
    (`19:…@thread.tacv2;messageid=…`); the channel itself is channelData.channel.id."""
    p = platforms
    await start_p1(p)
    code = re.search(r"link code is (\w+)", (await p.slash("link", channel="DU1"))["text"]).group(1)
    await p.teams_say(f"link {code}")
    await p.slash("link confirm", channel="DU1")  # the code's issuer confirms, on Slack
    await p.teams_wait("a:personal-aad-ana", "Linked")

    first_thread = f"{TEAMS_CHANNEL};messageid=1700000000001"
    await p.teams_say("<at>Partnerbot</at> partnership P-1 channel", channel=True, entities=[mention(BOT)],
                      thread="1700000000001")
    assert "now bound to P-1" in (await p.teams_wait(first_thread, "bound")).fallback  # answered in the thread
    await p.teams_say("<at>Partnerbot</at> partnership P-1 channel", channel=True, entities=[mention(BOT)],
                      thread="1700000000002")
    again = await p.teams_wait(f"{TEAMS_CHANNEL};messageid=1700000000002", "P-1")
    assert "already bound to P-1" in again.fallback
    assert sorted((b.platform, b.channel) for b in await rows(p.bot.db, PartnershipChannel)) == [
        ("slack", "C1"), ("teams", TEAMS_CHANNEL)]

    await ana_answers(p)
    await dana_answers_from_the_prompt(p)
    digest = await p.teams_wait(TEAMS_CHANNEL, "Peer sync S-1 · P-1 Acme Alliance")  # a post of its own
    assert digest.method == "POST"
    await asyncio.sleep(0.2)
    (only,) = p.connector.to(first_thread)  # nothing buried in the thread of the bind command
    assert "now bound to P-1" in only.fallback
    assert len([x for x in p.connector.posted if "Peer sync S-1 ·" in x.fallback]) == 1


# --- a linked manager answers the Slack partnership's sync from Teams ------------------------------
async def test_a_linked_manager_answers_the_slack_partnerships_sync_from_a_teams_card(platforms):
    p = platforms
    await start_p1(p)
    code = re.search(r"link code is (\w+)", (await p.slash("link", channel="DU1"))["text"]).group(1)
    await p.teams_say(f"link {code}")
    await p.slash("link confirm", channel="DU1")  # the code's issuer confirms, on Slack
    await p.teams_wait("a:personal-aad-ana", "Linked")

    await p.teams_say("sync now")
    form = await p.teams_wait("a:personal-aad-ana", "Opening the S-1 form (P-1 Acme Alliance)")
    data = form.card["actions"][0]["data"]
    assert data["command"] == "sync submit S-1"
    await p.teams_say(None, value={**data, "results": "from Teams", "commit": "call Dana"}, reply_to="activity-form")
    saved = await p.teams_wait("a:personal-aad-ana", "Your S-1 answer is saved")
    assert saved.method == "PUT" and "New commitments: C-1" in saved.fallback
    (c1,) = await rows(p.bot.db, Commitment)
    (s1,) = await rows(p.bot.db, PeerSync)
    assert (c1.what, c1.workspace_id, c1.peer_sync_id) == ("call Dana", s1.workspace_id, s1.id)  # the Slack workspace's

    # Dana (Slack) answers; the digest reaches C1 with Ana's Teams answer beside Dana's
    await dana_answers_from_the_prompt(p)
    digest = await p.wait_post("C1", "Peer sync S-1")
    blocks = assert_valid_slack_message(digest.args)
    (heading,) = [i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == "*Results since the last sync*"]
    assert [f["text"] for f in blocks[heading + 1]["fields"]] == ["*ana*\nfrom Teams",
                                                                  f"*Dana*\n{DANA_ANSWERS['results']}"]
    # the Teams form submitted again now is refused there, and nothing changes
    before = await snapshot(p.bot.db)
    await p.teams_say(None, value={**data, "results": "late change"}, reply_to="activity-form")
    refused = await p.teams_wait("a:personal-aad-ana", "The digest of S-1 went out")
    assert refused.method == "POST" and "its answers are closed" in refused.fallback  # the card stays as it was
    assert await snapshot(p.bot.db) == before


# --- the Block Kit renderer's cuts, directly ----------------------------------------------------------
def test_long_text_is_cut_between_words_and_never_inside_an_escape_or_a_mention():
    from adapters.slack.render import SECTION_LIMIT, blocks
    from handlers.kernel.model import Card, Fact, Reply

    words = blocks(Reply(("word " * 1000).strip()))
    assert [len(b["text"]["text"]) <= SECTION_LIMIT for b in words] == [True, True]
    assert " ".join(b["text"]["text"] for b in words) == ("word " * 1000).strip()

    # put the cut everywhere near an escape; a mention is plain text (`@name`), never markup
    escaped = {"&&&&&&&&": "&amp;" * 8, "<@U123|dana><!here>": "@dana&lt;!here&gt;"}
    for filler in range(SECTION_LIMIT - 8, SECTION_LIMIT + 1):
        for tail, shown in escaped.items():
            sections = blocks(Reply("x" * filler + tail * 3))
            texts = [b["text"]["text"] for b in sections]
            assert all(len(t) <= SECTION_LIMIT for t in texts)
            joined = "".join(texts)
            assert joined == "x" * filler + shown * 3
            assert not any(t.endswith(("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt")) for t in texts[:-1])

    many = blocks(Reply("t", cards=(Card("Pledges", facts=tuple(Fact(f"C-{i}", "x") for i in range(1, 24))),)))
    assert [len(b.get("fields", ())) for b in many] == [0, 10, 10, 3]


async def test_a_teams_manager_is_told_when_the_peer_cannot_be_reached_yet(platforms):
    p = platforms
    await p.teams_say("partnership new Globex Alliance with <at>Maria</at>", entities=[mention(MARIA)])
    created = await p.teams_wait("a:personal-aad-ana", "P-1 Globex Alliance proposed")
    assert "has not talked to Partnerbot yet: they get the invitation once they do" in created.fallback
    # no peer sync before Maria accepts (which she can only do by talking to the bot)
    await p.teams_say("sync now")
    await p.teams_wait("a:personal-aad-ana", "P-1 Globex Alliance is pending")
    assert p.connector.to("a:personal-aad-maria") == []  # her invitation waits for her first message
    await p.teams_say("help", sender=MARIA)
    await p.teams_wait("a:personal-aad-maria", "proposes P-1 Globex Alliance")
