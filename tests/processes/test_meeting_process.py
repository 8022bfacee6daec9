"""Communities of practice end to end, as people live them: commands typed over the real
Slack and Teams endpoints of an in-process app on a fixed clock (signed slash commands, button
clicks and modal submissions to /slack/events; Bot Framework activities to /api/messages),
time moved only by real `partnerbot tick --now …` processes, and every message read where
people read it: the fake Slack Web API and the fake Bot Framework connector.

Ana (Slack U1, Berlin) starts P-1 Acme Alliance with Dana (U2) in Slack channel C1 and
organises "Brainstorm new business at Acme" there, every Tuesday 15:00 Berlin for 45 minutes:
the first meeting M-1 is Tue 24 Nov 2026 14:00–14:45 UTC. Maria (U3) is a rep.
"""
from __future__ import annotations

import asyncio
import html
import json
import re
from collections import Counter
from datetime import datetime
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.wiring import Partnerbot
from storage.models import Commitment, Lead, Meeting, OutboxMessage
from tests.fakes.slack_api import Call
from tests.fakes.slack_requests import button_body, signed_headers, slash_body, view_submission_body
from tests.fakes.teams_connector import BOT, Posted, mention, message, person
from tests.helpers import rows, snapshot
from tests.peer_sync.test_sync_platforms import assert_valid_slack_message, inputs_of, shown_text
from tests.processes.test_cadence_process import BERLIN, NEW_YORK, Seen, Tick, World, at

pytestmark = pytest.mark.process

PURPOSE = "Brainstorm new business at Acme"
SERIES = f'meeting new P-1 "{PURPOSE}" every tue 15:00 for 45m'
TOKYO = "Asia/Tokyo"
SLACK_NAMES = {"U1": "ana", "U2": "dana", "U3": "maria"}
TEAMS_CHANNEL = "19:channel@thread.tacv2"
ANA_TEAMS, MARIA_TEAMS, JONAS = person("aad-ana", "Ana"), person("aad-maria", "Maria"), person("aad-jonas", "Jonas")
STARTS, ENDS = at("2026-11-24 14:00"), at("2026-11-24 14:45")  # M-1: Tue 15:00–15:45 in Berlin


# --- what people see ---------------------------------------------------------------------------
def slack_seen(call: Call) -> Seen:
    """A chat.postMessage as its reader sees it; `to` is the channel (C1, or DU1: the DM with U1)."""
    buttons = [(e["text"]["text"], e["value"]) for e in buttons_of(call.args)]
    return Seen("slack", call.args["channel"], call.args["text"], buttons, call.args)


def teams_seen(posted: Posted) -> Seen:
    """An activity the bot sent to Teams; `to` is the conversation (a channel, or a 1:1 chat)."""
    return Seen("teams", posted.conversation, posted.fallback, posted.submits, posted)


def where(seen: list[Seen]) -> list[tuple[str, str]]:
    """(conversation, first line) of each message: who got what, at a glance."""
    return [(s.to, s.text.split("\n", 1)[0]) for s in seen]


def buttons_of(args: dict) -> list[dict]:
    """The buttons of a Slack message (chat.postMessage's arguments)."""
    return [e for b in args.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


LEDGER_WIDTH = 30


def ledger(seen: list[Seen]) -> Counter:
    """How many times each message arrived where: (conversation, its first characters)."""
    return Counter((s.to, s.text[:LEDGER_WIDTH]) for s in seen)


def ledger_of(expected: list[tuple[str, str]]) -> Counter:
    assert all(len(text) >= LEDGER_WIDTH for _, text in expected), "too short to tell messages apart"
    return Counter((to, text[:LEDGER_WIDTH]) for to, text in expected)


class Room(World):
    """test_cadence_process's World (a database, the fakes, `partnerbot tick` processes) with
    people typing over HTTP to an in-process app, as `serve` runs it: the Slack and Teams
    endpoints and the outbox sender, on the world's fixed clock (no in-process scheduler:
    time moves only by tick processes)."""

    def __init__(self, db, db_url, cwd, fake_slack, connector, now: datetime):
        super().__init__(db, db_url, cwd, fake_slack, connector, now)
        # the sender sends when a command owes something (the dispatcher wakes it), never on its
        # own between commands: what a tick process writes is the tick's to send
        self.bot = Partnerbot(load_settings({**self.env, "PARTNERBOT_OUTBOX__POLL_SECONDS": "3600"}), self.clock)
        self.url = ""
        self.everything: list[Seen] = []  # every message, in the order it arrived
        self.typed: set[str] = set()  # ids of the Teams activities people sent

    async def __aenter__(self) -> Room:
        app = web.Application()
        app.router.add_post("/slack/events", self.bot.slack.handle)
        app.router.add_post("/api/messages", self.bot.teams.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._sender = asyncio.create_task(self.bot.sender.run_forever())
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        self._sender.cancel()
        await asyncio.gather(self._sender, return_exceptions=True)
        await self.http.close()
        await self._runner.cleanup()
        await self.bot.close()

    def at_time(self, when: datetime | None) -> None:
        if when:
            assert when >= self.clock.now, "the story only moves forward"
            self.clock.now = when

    # -- Slack, over signed HTTP ------------------------------------------------------------
    async def _slack_post(self, body: str) -> aiohttp.ClientResponse:
        response = await self.http.post(f"{self.url}/slack/events", data=body, headers=signed_headers(body))
        assert response.status == 200, await response.text()
        return response

    async def slash(self, user: str, text: str, channel: str = "C1", when: datetime | None = None) -> str:
        """`/partner <text>` typed by `user` in `channel`: the text of Slack's (ephemeral) answer."""
        self.at_time(when)
        body = slash_body(text, user=user, channel=channel, user_name=SLACK_NAMES[user])
        ack = await (await self._slack_post(body)).json()
        assert ack["response_type"] == "ephemeral"
        await self.settle()
        return ack["text"]

    async def click(self, seen: Seen, label: str, when: datetime | None = None) -> dict:
        """The reader of a Slack message clicks its button `label` (a block_actions
        interaction); returns the click's payload as Slack sent it."""
        self.at_time(when)
        assert seen.platform == "slack" and seen.to.startswith("DU"), "a direct message (its reader: DU1 → U1)"
        (button,) = [e for e in buttons_of(seen.raw) if e["text"]["text"] == label]
        user = seen.to.removeprefix("D")
        body = button_body(button["value"], user=user, channel=seen.to, message_ts="1.000100",
                           action_id=button["action_id"])
        await self._slack_post(body)
        await self.settle()
        return json.loads(parse_qs(body)["payload"][0])

    async def submit(self, view: dict, answers: dict, user: str, when: datetime | None = None) -> dict | None:
        """Submit a modal as Slack does; the ack's JSON (None: accepted, the modal closes)."""
        self.at_time(when)
        response = await self._slack_post(view_submission_body(view, answers, user=user))
        text = await response.text()
        await self.settle()
        return json.loads(text) if text else None

    # -- Teams, Bot Framework activities ---------------------------------------------------------
    async def teams(self, sender: dict, text: str | None, *, when: datetime | None = None, **kw) -> Posted:
        """A Teams message (or, with value=…, a card click) from `sender`: the bot's answer."""
        self.at_time(when)
        before = len(self.connector.posted)
        activity = message(text, sender=sender, service_url=self.connector.url, **kw)
        self.typed.add(activity["id"])
        response = await self.http.post(f"{self.url}/api/messages", json=activity)
        assert response.status in (200, 201), await response.text()
        await self.settle()
        conversation = activity["conversation"]["id"]
        answers = [p for p in self.connector.posted[before:] if p.conversation == conversation]
        assert len(answers) == 1, (text, kw.get("value"), [teams_seen(p) for p in self.connector.posted[before:]])
        return answers[0]

    async def say_in_channel(self, sender: dict, text: str, *, entities: tuple = (), **kw) -> Posted:
        """`@Partnerbot <text>` typed in the Teams channel."""
        return await self.teams(sender, f"<at>Partnerbot</at> {text}", channel=True,
                                entities=[mention(BOT), *entities], **kw)

    # -- what arrived -------------------------------------------------------------------------
    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the app has sent what the last request owed: nothing due in the outbox
        (a message that waits for its recipient's first contact is not due) and no Slack work
        left after an ack."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            due = await rows(self.db, OutboxMessage, OutboxMessage.status == "pending",
                             OutboxMessage.next_attempt_at <= self.clock.now)
            if not due and not self.bot.slack.busy:  # (its DMs sent after a modal's ack)
                return
            assert loop.time() < deadline, f"still owed after {timeout}s: {[m.idempotency_key for m in due]}"
            await asyncio.sleep(0.02)

    def delivered(self) -> list[Seen]:
        """Every message posted to Slack or Teams since the last call (channel posts, DMs,
        answers in a Teams conversation)."""
        posts = self.fake_slack.calls_to("chat.postMessage")
        seen = [slack_seen(c) for c in posts[self._slack_read:]]
        seen += [teams_seen(p) for p in self.connector.posted[self._teams_read:]]
        self._slack_read, self._teams_read = len(posts), len(self.connector.posted)
        self.everything += seen
        return seen

    async def tick(self, now: datetime) -> Tick:
        """`partnerbot tick --now <now>` as a process; the story's clock moves to `now`."""
        self.delivered()  # what came before is not the tick's
        self.at_time(now)
        return await super().tick(now)


@pytest.fixture
async def room(db, db_url, tmp_path, settings, fake_slack, connector):
    """Mon 23 Nov 2026 10:00 UTC; built-in settings (`settings` puts the test in an empty directory)."""
    fake_slack.timezones.update({"U1": BERLIN, "U2": NEW_YORK, "U3": TOKYO})  # their Slack profiles
    fake_slack.names.update(SLACK_NAMES)
    async with Room(db, db_url, tmp_path, fake_slack, connector, at("2026-11-23 10:00")) as world:
        yield world


async def start_p1_and_series(room: Room) -> None:
    """Ana starts P-1 with Dana in C1 and, there, the weekly series."""
    created = await room.slash("U1", "partnership new Acme Alliance with <@U2|dana>")
    assert "P-1 Acme Alliance proposed" in created and "This channel is bound" in created
    # Dana accepts in the afternoon, after 09:00 in New York: their first peer sync is next Monday
    assert "You manage side B of P-1" in await room.slash("U2", "partnership P-1 accept", channel="DU2",
                                                          when=at("2026-11-23 14:30"))
    series = await room.slash("U1", SERIES)
    assert f'"{PURPOSE}", every tue 15:00 for 45 min (Europe/Berlin)' in series
    assert "First meeting Tue 24 Nov 15:00 (Europe/Berlin)" in series


# --- 1. Slack, one channel: the whole meeting ------------------------------------------------------
async def test_slack_meeting_start_post_idea_end_prompt_nudges_form_and_summary_each_message_once(room, db, fake_slack):
    await start_p1_and_series(room)
    assert where(room.delivered()) == [
        ("DU2", "ana proposes P-1 Acme Alliance with you: they manage side A, you would manage side B and hold a "
                "weekly peer sync with them. Accept with `partnership P-1 accept`, or decline."),
        ("DU1", "dana accepted P-1 Acme Alliance: they manage side B. Peer sync every mon at 09:00, each manager's "
                "own time.")]

    # a second before the start nothing; at 15:00 Berlin the start post in C1
    tick = await room.tick(at("2026-11-24 13:59:59"))
    assert (tick.work, tick.seen) == ({}, [])
    tick = await room.tick(STARTS)
    assert tick.work == {"meeting starts": 1}
    (start,) = tick.seen
    assert start.to == "C1" and start.text.startswith(f"M-1 starts now · {PURPOSE}\n")
    assert f"Purpose: {PURPOSE}." in start.text and "Tue 24 Nov 15:00 (Europe/Berlin), 45 min" in start.text
    assert start.buttons == [("Capture action items", "meeting actions M-1")]
    assert_valid_slack_message(start.raw)

    # during the meeting Dana types an idea in C1: a lead of M-1, owned by Maria, who is told
    idea = await room.slash("U2", "idea Acme: cross-sell the analytics add-on owner <@U3|maria>",
                            when=at("2026-11-24 14:10"))
    assert idea.startswith("Lead L-1 created: Acme — cross-sell the analytics add-on; owned by maria")
    assert f"Linked to M-1 ({PURPOSE})" in idea
    (told,) = room.delivered()
    assert told.to == "DU3" and told.text.startswith("dana made you the owner of lead L-1: Acme — cross-sell")

    # at 15:45 Berlin the organiser is asked for action items, by DM, with the two buttons
    tick = await room.tick(ENDS)
    assert tick.work == {"meeting follow-ups": 1}
    (prompt,) = tick.seen
    assert prompt.to == "DU1" and prompt.text.startswith(f"M-1 ({PURPOSE}) has ended. Capture its action items")
    assert prompt.buttons == [("Capture action items", "meeting actions M-1"), ("Close meeting", "meeting close M-1")]
    assert_valid_slack_message(prompt.raw)

    # closing without an action item is refused, saying why, and changes nothing
    before = await snapshot(db)
    refused = await room.slash("U1", "meeting close M-1", when=at("2026-11-24 14:50"))
    assert refused.startswith("M-1 can't be closed yet: it has no action item with an owner and a due date. "  # Slack-escaped
                              "Add one with `action M-1 @owner &lt;what&gt; by &lt;date&gt;` (or `meeting actions M-1`).")
    assert await snapshot(db) == before and room.delivered() == []

    # a day later: a nudge by DM (15:45 Berlin); a tick in Berlin's night sends nothing
    tick = await room.tick(at("2026-11-25 14:44:59"))
    assert (tick.work, tick.seen) == ({}, [])
    tick = await room.tick(at("2026-11-25 14:45"))
    assert tick.work == {"meeting follow-ups": 1}
    (nudge,) = tick.seen
    assert nudge.to == "DU1" and nudge.text.startswith(f"Reminder: M-1 ({PURPOSE}) still has no action item")
    assert nudge.buttons == prompt.buttons
    tick = await room.tick(at("2026-11-25 23:30"))  # 00:30 in Berlin
    assert (tick.work, tick.seen) == ({}, [])

    # Ana clicks "Capture action items" on the nudge: the action-item modal opens
    click = await room.click(nudge, "Capture action items", when=at("2026-11-26 08:30"))
    (opened,) = fake_slack.calls_to("views.open")
    assert opened.args["trigger_id"] == click["trigger_id"]  # the click's own trigger
    view = opened.args["view"]
    assert view["title"]["text"] == "Action items of M-1" and view["submit"]["text"] == "Save"
    assert json.loads(view["private_metadata"]) == {"command": "meeting submit M-1", "channel": "DU1", "direct": True}
    fields = inputs_of(view)
    assert [b["block_id"] for b in fields] == [f"{f}_{row}" for row in (1, 2, 3) for f in ("owner", "what", "due")]
    owner, what, due = fields[:3]
    assert (owner["label"]["text"], owner["element"]) == ("1. Owner", {"type": "users_select", "action_id": "answer"})
    assert what["element"]["type"] == "plain_text_input" and what["element"]["multiline"] is False
    assert (due["label"]["text"], due["element"]) == ("1. Due", {"type": "datepicker", "action_id": "answer"})
    assert room.delivered() == [] and fake_slack.calls_to("chat.postEphemeral") == []  # the modal is the answer

    # a good row and a row without its due date: the modal stays open (Slack keeps what she
    # picked and typed), the reason under row 2's due date only, and nothing is saved
    before = await snapshot(db)
    fake_slack.names["U4"] = "Lee Park"
    typed = {"owner_1": "U3", "what_1": "send the joint case study", "due_1": "2026-12-04",
             "owner_2": "U4", "what_2": "book the follow-up workshop"}
    refused = await room.submit(view, typed, user="U1")
    assert refused == {"response_action": "errors", "errors": {"due_2": "Give a due date."}}
    assert await snapshot(db) == before and room.delivered() == []

    # she picks Tue 8 Dec for Lee (who never used the bot): both rows saved, once each, as action
    # items of M-1, Lee under the name his Slack profile gives
    accepted = await room.submit(view, {**typed, "due_2": "2026-12-08"}, user="U1")
    assert accepted is None  # the modal closes
    items = sorted(await rows(db, Commitment), key=lambda c: c.number)
    (m1,) = await rows(db, Meeting)
    assert [(c.number, c.what, c.meeting_id, c.due_date.isoformat()) for c in items] == [
        (1, "send the joint case study", m1.id, "2026-12-04"), (2, "book the follow-up workshop", m1.id, "2026-12-08")]
    saved = room.delivered()
    assert sorted(where(saved)) == [
        ("DU1", "2 action item(s) saved for M-1:"),
        ("DU3", "ana assigned you C-1: send the joint case study — due Fri 4 Dec 17:00 (UTC)."),
        ("DU4", "ana assigned you C-2: book the follow-up workshop — due Tue 8 Dec 17:00 (UTC)."),
    ]
    (answer,) = [s for s in saved if s.to == "DU1"]  # the form's answer, by DM
    assert "C-2 · Lee Park: book the follow-up workshop, due Tue 8 Dec 17:00 (UTC)" in answer.text

    # now it closes, and the summary goes to C1: purpose, the action items, the lead
    closed = await room.slash("U1", "meeting close M-1", when=at("2026-11-26 08:40"))
    assert closed.startswith("M-1 closed; its summary is posted to P-1's channels.")
    (summary,) = room.delivered()
    assert summary.to == "C1" and summary.text.startswith(f"M-1 closed · {PURPOSE}\n")
    assert f"Purpose: {PURPOSE}." in summary.text and "Contributed: ana, dana." in summary.text
    assert "C-1 · maria: send the joint case study, due Fri 4 Dec 17:00 (UTC)" in summary.text
    assert "C-2 · Lee Park: book the follow-up workshop, due Tue 8 Dec 17:00 (UTC)" in summary.text
    assert "L-1 · Acme: cross-sell the analytics add-on (owner maria)" in summary.text
    assert summary.buttons == []
    shown = shown_text(assert_valid_slack_message(summary.raw))  # what Slack shows: the blocks
    assert "*C-1 · maria*\nsend the joint case study, due Fri 4 Dec 17:00 (UTC)" in shown
    assert "*L-1 · Acme*\ncross-sell the analytics add-on (owner maria)" in shown

    # the old nudge's button now says the meeting is closed, to her only, and opens nothing
    await room.click(nudge, "Capture action items", when=at("2026-11-26 08:45"))
    (ephemeral,) = fake_slack.calls_to("chat.postEphemeral")
    assert (ephemeral.args["channel"], ephemeral.args["user"]) == ("DU1", "U1")
    assert ephemeral.args["text"].startswith("M-1 is closed already")
    assert len(fake_slack.calls_to("views.open")) == 1

    # no more nudges: not when the next one was due, nor by next week's meeting, which shows
    # the open action item and lead
    tick = await room.tick(at("2026-11-26 14:45"))
    assert (tick.work, tick.seen) == ({}, [])
    tick = await room.tick(at("2026-12-01 14:00"))  # (the managers' peer-sync prompts of Monday come too)
    # …and the delivery ids of last week's clicks, a week old, are forgotten (Slack retries within minutes)
    assert tick.work == {"meeting starts": 1, "sync prompts": 2, "old delivery ids": 3}
    assert sorted((s.to, s.text[:32]) for s in tick.seen) == [
        ("C1", f"M-2 starts now · {PURPOSE}"[:32]),
        ("DU1", "Time for your weekly peer sync S"), ("DU2", "Time for your weekly peer sync S")]
    (second,) = [s for s in tick.seen if s.to == "C1"]
    assert "C-1 · maria: send the joint case study, due Fri 4 Dec 17:00 (UTC)" in second.text
    assert "C-2 · Lee Park: book the follow-up workshop, due Tue 8 Dec 17:00 (UTC)" in second.text
    assert "L-1 · Acme: cross-sell the analytics add-on · owner maria · no next activity" in second.text

    # every message exactly once, where its reader reads it
    assert ledger(room.everything) == ledger_of([
        ("DU2", "ana proposes P-1 Acme Alliance with you"),
        ("DU1", "dana accepted P-1 Acme Alliance: they manage side B"),
        ("C1", f"M-1 starts now · {PURPOSE}"),
        ("DU3", "dana made you the owner of lead L-1"),
        ("DU1", f"M-1 ({PURPOSE}) has ended."),
        ("DU1", f"Reminder: M-1 ({PURPOSE}) still has no action item"),
        ("DU1", "2 action item(s) saved for M-1:"),
        ("DU3", "ana assigned you C-1: send the joint case study"),
        ("DU4", "ana assigned you C-2: book the follow-up workshop"),
        ("C1", f"M-1 closed · {PURPOSE}"),
        ("C1", f"M-2 starts now · {PURPOSE}"),
        ("DU1", "Time for your weekly peer sync S-1"),
        ("DU2", "Time for your weekly peer sync S-1"),
    ])
    assert len(fake_slack.calls_to("chat.postMessage")) == 13
    messages = await rows(db, OutboxMessage)
    assert {m.status for m in messages} == {"sent"} and len(messages) == 12  # all but the form's answer


# --- 2. a lead's next activity is a commitment: reminded and reported overdue on the owner's clock -----
async def test_a_leads_next_activity_is_reminded_the_day_before_and_reported_overdue_at_17_00_owner_time(
        room, db, fake_slack):
    created = await room.slash("U1", "partnership new Acme Alliance with <@U2|dana>")
    assert "P-1 Acme Alliance proposed" in created
    idea = await room.slash("U1", "idea Acme: cross-sell the analytics add-on owner <@U3|maria>")
    assert idea.startswith("Lead L-1 created: Acme — cross-sell the analytics add-on; owned by maria")
    # Maria (Slack profile: Tokyo) gives it a next activity from her DM: due Fri 27 Nov 17:00 Tokyo = 08:00 UTC
    nxt = await room.slash("U3", "lead L-1 next demo with their CTO by fri", channel="DU3", when=at("2026-11-23 11:00"))
    assert nxt == ("C-1 saved: demo with their CTO — due Fri 27 Nov 17:00 (Asia/Tokyo). "
                   "It is the next activity of L-1 (Acme).")
    (activity,) = await rows(db, Commitment)
    (lead,) = await rows(db, Lead)
    assert (activity.lead_id, activity.account, activity.due_at) == (lead.id, "Acme", at("2026-11-27 08:00"))
    shown = await room.slash("U1", "lead L-1", when=at("2026-11-23 11:05"))
    assert "next: C-1 demo with their CTO, due Fri 27 Nov 09:00 (Europe/Berlin)" in shown  # Ana's clock
    # Dana accepts P-1 in the afternoon, after 09:00 in New York: their first peer sync is next Monday
    assert "You manage side B of P-1" in await room.slash("U2", "partnership P-1 accept", channel="DU2",
                                                          when=at("2026-11-23 14:30"))
    room.delivered()

    # the reminder 24 h before due, at 17:00 in Tokyo on Thursday
    tick = await room.tick(at("2026-11-26 07:59:59"))
    assert (tick.work, tick.seen) == ({}, [])
    tick = await room.tick(at("2026-11-26 08:00"))
    assert tick.work == {"commitment reminders": 1}
    (reminder,) = tick.seen
    assert reminder.to == "DU3"
    assert reminder.text.startswith("Reminder: C-1 is due Fri 27 Nov 17:00 (Asia/Tokyo): demo with their CTO")
    assert [(e["text"]["text"], e["value"], e.get("style")) for e in buttons_of(reminder.raw)] == [
        ("Done", "done C-1", "primary"), ("Snooze 1 day", "snooze C-1", None), ("Drop", "drop C-1", "danger")]
    assert_valid_slack_message(reminder.raw)

    # the overdue notice at the due time, 17:00 in Tokyo on Friday
    tick = await room.tick(at("2026-11-27 07:59:59"))
    assert (tick.work, tick.seen) == ({}, [])
    tick = await room.tick(at("2026-11-27 08:00"))
    assert tick.work == {"commitment reminders": 1}
    (overdue,) = tick.seen
    assert overdue.to == "DU3"
    assert overdue.text.startswith("C-1 is overdue (was due Fri 27 Nov 17:00 (Asia/Tokyo))")
    assert overdue.buttons == [("Done", "done C-1"), ("Snooze 1 day", "snooze C-1"), ("Drop", "drop C-1")]

    # Done on the notice: the message says so in place, and the lead has no next activity any more
    await room.click(overdue, "Done", when=at("2026-11-27 09:00"))
    (update,) = fake_slack.calls_to("chat.update")
    assert update.args["channel"] == "DU3" and update.args["text"].startswith("C-1 kept (late)")
    (activity,) = await rows(db, Commitment)
    assert activity.status == "done"
    assert "L-1 · Acme: cross-sell the analytics add-on · owner maria · no next activity" in \
        await room.slash("U1", "lead L-1")
    assert ledger(room.everything + room.delivered()) == ledger_of([
        ("DU2", "ana proposes P-1 Acme Alliance with you"),
        ("DU1", "dana accepted P-1 Acme Alliance: they manage side B"),
        ("DU3", "ana made you the owner of lead L-1"),
        ("DU3", "Reminder: C-1 is due Fri 27 Nov 17:00 (Asia/Tokyo)"),
        ("DU3", "C-1 is overdue (was due Fri 27 Nov 17:00 (Asia/Tokyo))"),
    ])


# --- 3. a Slack channel and a Teams channel bound to one partnership ----------------------------------
async def test_start_post_and_summary_reach_the_slack_and_the_teams_channel_and_a_teams_idea_joins_the_meeting(
        room, db, connector):
    created = await room.slash("U1", "partnership new Acme Alliance with <@U2|dana>")
    assert "This channel is bound" in created
    # Dana accepts in the afternoon, after 09:00 in New York: their first peer sync is next Monday
    assert "You manage side B of P-1" in await room.slash("U2", "partnership P-1 accept", channel="DU2",
                                                          when=at("2026-11-23 14:30"))
    # Ana, linked on both platforms, binds the team's Teams channel too
    code = re.search(r"link code is (\w+)", await room.slash("U1", "link", channel="DU1")).group(1)
    await room.teams(ANA_TEAMS, f"link {code}")
    assert "Linked" in await room.slash("U1", "link confirm", channel="DU1")  # the code's issuer confirms
    bound = await room.say_in_channel(ANA_TEAMS, "partnership P-1 channel")
    assert "This channel is now bound to P-1 Acme Alliance" in bound.fallback
    series = await room.slash("U1", SERIES)
    assert "First meeting Tue 24 Nov 15:00 (Europe/Berlin)" in series
    room.delivered()

    # the start post: in C1 and, as a post of its own, in the Teams channel
    tick = await room.tick(STARTS)
    assert tick.work == {"meeting starts": 1}
    assert sorted((s.platform, s.to) for s in tick.seen) == [("slack", "C1"), ("teams", TEAMS_CHANNEL)]
    slack_start, teams_start = sorted(tick.seen, key=lambda s: s.platform)
    # the same words on both: Slack's text has `<` and `>` as entities, which Slack shows as typed
    assert html.unescape(slack_start.text) == teams_start.text
    assert teams_start.text.startswith(f"M-1 starts now · {PURPOSE}\n")
    post = teams_start.raw
    assert post.method == "POST" and post.reply_to not in room.typed  # a post, not an answer to the bind
    assert post.card["type"] == "AdaptiveCard" and post.card["body"][0]["text"] == f"M-1 starts now · {PURPOSE}"
    assert [(a["type"], a["title"], a["data"]) for a in post.card["actions"]] == [
        ("Action.Submit", "Capture action items", {"command": "meeting actions M-1"})]

    # during the meeting Maria, on Teams, types an idea in the Teams channel: a lead of M-1
    idea = await room.say_in_channel(MARIA_TEAMS, "idea Acme: joint webinar for their finance team",
                                     when=at("2026-11-24 14:10"))
    assert idea.conversation == TEAMS_CHANNEL
    assert idea.fallback.startswith("Lead L-1 created: Acme — joint webinar for their finance team; yours.")
    assert f"Linked to M-1 ({PURPOSE})" in idea.fallback
    (lead,) = await rows(db, Lead)
    (m1,) = await rows(db, Meeting)
    assert (lead.meeting_id, lead.partnership_id, lead.workspace_id) == (m1.id, m1.partnership_id, m1.workspace_id)

    # Ana gives Dana an action item and closes the meeting from C1: the summary in both channels
    action = await room.slash("U1", "action M-1 <@U2|dana> book the intro with their CFO by fri", when=at("2026-11-24 14:30"))
    assert action.startswith("C-1 saved as an action item of M-1 for dana: book the intro with their CFO")
    closed = await room.slash("U1", "meeting close M-1", when=at("2026-11-24 14:40"))
    assert closed.startswith("M-1 closed; its summary is posted to P-1's channels.")
    summaries = [s for s in room.delivered() if s.text.startswith("M-1 closed ·")]
    assert sorted((s.platform, s.to) for s in summaries) == [("slack", "C1"), ("teams", TEAMS_CHANNEL)]
    for summary in summaries:
        assert "C-1 · dana: book the intro with their CFO, due Fri 27 Nov 17:00" in summary.text
        assert "L-1 · Acme: joint webinar for their finance team (owner Maria)" in summary.text
        assert "Contributed: Maria, ana." in summary.text
    teams_summary = next(s.raw for s in summaries if s.platform == "teams")
    assert teams_summary.method == "POST" and teams_summary.reply_to not in room.typed  # not an answer to Maria
    facts = [f for e in teams_summary.card["body"] if e["type"] == "FactSet" for f in e["facts"]]
    assert {"title": "L-1 · Acme", "value": "joint webinar for their finance team (owner Maria)"} in facts

    # closed before its end: no end prompt, nothing more anywhere
    tick = await room.tick(ENDS)
    assert (tick.work, tick.seen) == ({}, [])
    posted = [s for s in room.everything if s.to in ("C1", TEAMS_CHANNEL)]
    assert ledger(posted) == ledger_of([
        (TEAMS_CHANNEL, "This channel is now bound to P-1 Acme Alliance"),  # the answer to the bind
        ("C1", f"M-1 starts now · {PURPOSE}"), (TEAMS_CHANNEL, f"M-1 starts now · {PURPOSE}"),
        (TEAMS_CHANNEL, "Lead L-1 created: Acme — joint webinar"),  # the answer to Maria
        ("C1", f"M-1 closed · {PURPOSE}"), (TEAMS_CHANNEL, f"M-1 closed · {PURPOSE}"),
    ])


# --- 4. a Teams organiser: the end prompt, the action-item card, the close -----------------------------
async def test_a_teams_organiser_captures_action_items_in_a_card_from_the_end_prompt_and_closes_it(room, db, connector):
    # Jonas (Teams, New York) starts P-1 with Maria in the team's channel on Monday at 10:00 his
    # time; Maria, who has talked to the bot before, accepts from her 1:1 chat (their first peer
    # sync is next Monday); then the series there
    assert (await room.teams(MARIA_TEAMS, "help")).fallback.startswith("Partnerbot verbs")
    created = await room.say_in_channel(JONAS, "partnership new Globex Alliance with <at>Maria</at>",
                                        entities=(mention(MARIA_TEAMS),), local_timezone=NEW_YORK,
                                        when=at("2026-11-23 15:00"))
    assert "P-1 Globex Alliance proposed" in created.fallback and "This channel is bound" in created.fallback
    assert "You manage side B of P-1" in (await room.teams(MARIA_TEAMS, "partnership P-1 accept")).fallback
    series = await room.say_in_channel(JONAS, 'meeting new P-1 "Pipeline clinic for Globex deals" every tue 15:00 for 45m',
                                       local_timezone=NEW_YORK)
    assert "First meeting Tue 24 Nov 15:00 (America/New_York)" in series.fallback
    room.delivered()

    tick = await room.tick(at("2026-11-24 20:00"))  # 15:00 in New York
    assert tick.work == {"meeting starts": 1}
    (start,) = tick.seen
    assert start.to == TEAMS_CHANNEL and start.text.startswith("M-1 starts now · Pipeline clinic for Globex deals")

    # at 15:45 New York time Jonas gets the end prompt in a 1:1 chat the bot opens with him
    opened_before = len(connector.created)
    tick = await room.tick(at("2026-11-24 20:45"))
    assert tick.work == {"meeting follow-ups": 1}
    (prompt,) = tick.seen
    assert [c["members"][0]["id"] for c in connector.created[opened_before:]] == ["29:aad-jonas"]
    chat = prompt.to
    assert chat == "a:personal-29:aad-jonas" and prompt.raw.method == "POST"
    assert prompt.text.startswith("M-1 (Pipeline clinic for Globex deals) has ended. Capture its action items")
    card = prompt.raw.card
    assert card["type"] == "AdaptiveCard"
    assert [(a["type"], a["title"], a["data"]) for a in card["actions"]] == [
        ("Action.Submit", "Capture action items", {"command": "meeting actions M-1"}),
        ("Action.Submit", "Close meeting", {"command": "meeting close M-1"})]

    # "Capture action items": the answer is a card with the form's inputs
    opened = await room.teams(JONAS, None, conversation=chat, value={"command": "meeting actions M-1"},
                              reply_to=prompt.raw.id, when=at("2026-11-24 21:00"))
    assert opened.fallback.startswith("Opening the action-item form of M-1 (Pipeline clinic for Globex deals)")
    inputs = {e["id"]: e for e in opened.card["body"] if e["type"].startswith("Input.")}
    assert list(inputs) == [f"{f}_{row}" for row in (1, 2, 3) for f in ("owner", "what", "due")]
    assert inputs["owner_1"]["type"] == "Input.ChoiceSet"
    assert inputs["owner_1"]["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert (inputs["what_1"]["type"], inputs["due_1"]["type"]) == ("Input.Text", "Input.Date")
    (save,) = opened.card["actions"]
    data = save["data"]
    assert (save["title"], data["command"], data["pb_form"]) == ("Save", "meeting submit M-1", True)
    assert data["pb_inputs"] == list(inputs) and data["pb_people"] == ["owner_1", "owner_2", "owner_3"]

    # a good first row and a second without an owner, due in the past: the card comes back in
    # place with both rows as he typed them (Maria picked, by name) and a reason under each bad
    # field of row 2; nothing is saved, so saving again cannot add row 1 twice
    typed = {"owner_1": "aad-maria", "what_1": "send the Globex pilot plan", "due_1": "2026-12-04",
             "what_2": "book the workshop", "due_2": "2026-11-01"}
    again = await room.teams(JONAS, None, conversation=chat, reply_to=opened.id, value={**data, **typed})
    assert (again.method, again.reply_to) == ("PUT", opened.id)
    body = again.card["body"]
    shown = {e["id"]: e["value"] for e in body if e["type"].startswith("Input.") and e.get("value")}
    assert shown == typed
    owner_1 = next(e for e in body if e.get("id") == "owner_1")
    assert owner_1["choices"] == [{"title": "Maria", "value": "aad-maria"}]
    reasons = {body[i - 1]["id"]: e["text"] for i, e in enumerate(body) if e.get("color") == "Attention" and i
               and "id" in body[i - 1]}
    assert reasons == {"owner_2": "Pick who owns this action item.",
                       "due_2": "2026-11-01 is in the past. Pick today or a later date."}
    assert again.fallback.startswith("Nothing was saved yet: fix the marked answers and submit again")
    assert await rows(db, Commitment) == []
    (data,) = [a["data"] for a in again.card["actions"]]

    # he picks Maria (the people picker gives her AAD object id) and Fri 4 Dec, and saves
    saved = await room.teams(JONAS, None, conversation=chat, reply_to=opened.id, value={
        **data, "owner_1": "aad-maria", "what_1": "send the Globex pilot plan", "due_1": "2026-12-04"})
    assert (saved.method, saved.reply_to) == ("PUT", opened.id)  # the filled form becomes the result
    assert saved.fallback.startswith("1 action item(s) saved for M-1:\nC-1 · Maria: send the Globex pilot plan, "
                                     "due Fri 4 Dec 17:00 (UTC)")
    (item,) = await rows(db, Commitment)
    (m1,) = await rows(db, Meeting)
    assert (item.meeting_id, item.what, item.due_date.isoformat()) == (m1.id, "send the Globex pilot plan", "2026-12-04")
    # Maria talked to the bot (she accepted P-1): her action item is not left waiting for her
    waiting = await rows(db, OutboxMessage, OutboxMessage.status == "pending")
    assert sorted(m.idempotency_key.split(":")[0] for m in waiting) == []

    # "Close meeting" on the end prompt: the prompt says so in place, the summary goes to the channel
    closing = await room.teams(JONAS, None, conversation=chat, value={"command": "meeting close M-1"},
                               reply_to=prompt.raw.id)
    assert (closing.method, closing.reply_to) == ("PUT", prompt.raw.id)
    assert closing.fallback.startswith("M-1 closed; its summary is posted to P-1's channels.")
    (summary,) = [s for s in room.delivered() if s.to == TEAMS_CHANNEL]
    assert summary.text.startswith("M-1 closed · Pipeline clinic for Globex deals")
    assert "C-1 · Maria: send the Globex pilot plan, due Fri 4 Dec 17:00 (UTC)" in summary.text
    assert summary.raw.method == "POST" and summary.raw.reply_to not in room.typed
    assert ledger([s for s in room.everything + room.delivered() if s.raw.method == "POST"]) == ledger_of([
        ("a:personal-aad-maria", "Partnerbot verbs (`help <verb>`"),  # the answer to her help
        (TEAMS_CHANNEL, "P-1 Globex Alliance proposed: you manage side A"),  # answers in the channel
        ("a:personal-aad-maria", "Jonas proposes P-1 Globex Alliance with you"),
        ("a:personal-aad-maria", "You manage side B of P-1 Globex Alliance"),  # the answer to her accept
        (chat, "Maria accepted P-1 Globex Alliance: they manage side B"),
        ("a:personal-aad-maria", "Jonas assigned you C-1: send the Globex pilot plan"),
        (TEAMS_CHANNEL, "Community of practice for P-1 Globex Alliance"),
        (TEAMS_CHANNEL, "M-1 starts now · Pipeline clinic for Globex deals"),
        (chat, "M-1 (Pipeline clinic for Globex deals) has ended."),
        (chat, "Opening the action-item form of M-1"),  # the answer to the click
        (TEAMS_CHANNEL, "M-1 closed · Pipeline clinic for Globex deals"),
    ])


# --- a nudge that fell due while no tick ran waits for the organiser's morning ------------------------
async def test_a_nudge_due_while_no_tick_ran_is_not_sent_in_the_organisers_night_but_at_08_00(room, db):
    await start_p1_and_series(room)
    await room.tick(STARTS)
    prompt = await room.tick(ENDS)
    assert [s.to for s in prompt.seen] == ["DU1"]  # the end prompt; the first nudge is due Wed 15:45 Berlin
    # no tick ran on Wednesday; the next runs at 22:00 in Berlin
    tick = await room.tick(at("2026-11-25 21:00"))
    assert (tick.work, tick.seen) == ({}, []), "a nudge in the organiser's night"
    tick = await room.tick(at("2026-11-26 07:00"))  # 08:00 in Berlin
    assert [(s.to, s.text[:12]) for s in tick.seen] == [("DU1", "Reminder: M-")]
