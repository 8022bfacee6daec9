"""Requests for help end to end, as people live them: asks typed over the real Slack and Teams
endpoints of an in-process app on a fixed clock (test_meeting_process's Room), time moved
only by real `partnerbot tick --now …` processes, and every message read where people read
it — the fake Slack Web API and the fake Bot Framework connector: the request with its
buttons, the nudge after 24 h, the manager told after 72 h, a button click that responds,
and the asker told.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from storage.models import Ask, Claim, OutboxMessage
from tests.conftest import migrated
from tests.fakes.teams_connector import mention, person
from tests.helpers import rows, snapshot
from tests.peer_sync.test_sync_platforms import assert_valid_slack_message, inputs_of
from tests.postgres import fresh_postgres_url
from tests.processes.test_cadence_process import World, _two_ticks_released_together, at
from tests.processes.test_meeting_process import Room, buttons_of, ledger, ledger_of, where

pytestmark = pytest.mark.process

BERLIN, NEW_YORK, TOKYO = "Europe/Berlin", "America/New_York", "Asia/Tokyo"
ASKED = at("2026-11-23 10:00")  # Mon 23 Nov 2026, the room's clock
NUDGE, ESCALATE = at("2026-11-24 10:00"), at("2026-11-26 10:00")  # 24 h and 72 h later
REQUEST = "special credit terms for Distributor X"
BUTTONS = [("Accept", "ask Q-1 accept"), ("Decline", "ask Q-1 decline"), ("Answer", "ask Q-1 answer")]
JONAS, MARIA, LEE, PAT = (person("aad-jonas", "Jonas"), person("aad-maria", "Maria"), person("aad-lee", "Lee"),
                          person("aad-pat", "Pat"))


@pytest.fixture
async def room(db, db_url, tmp_path, settings, fake_slack, connector):
    """Mon 23 Nov 2026 10:00 UTC, built-in settings: nudge after 24 h, the manager told after 72 h."""
    fake_slack.timezones.update({"U1": BERLIN, "U2": NEW_YORK, "U3": TOKYO})  # their Slack profiles
    fake_slack.names.update({"U1": "ana", "U2": "dana", "U3": "maria"})
    async with Room(db, db_url, tmp_path, fake_slack, connector, ASKED) as world:
        yield world


async def quiet(room: Room, now) -> None:
    """A tick at `now` that has nothing to do and sends nothing."""
    tick = await room.tick(now)
    assert (tick.work, tick.seen) == ({}, []), tick.output


# --- Slack ---------------------------------------------------------------------------------------
async def test_slack_ask_is_nudged_at_24_hours_escalated_to_the_manager_at_72_and_answered_from_the_nudge(
        room, db, fake_slack):
    # Ana (Berlin) runs P-1 with Maria (Tokyo); Dana (New York) joins Ana's side: Ana is Dana's manager.
    # (Both managers' first peer sync is next Monday, after this story.)
    assert "P-1 Acme Alliance proposed" in await room.slash("U1", "partnership new Acme Alliance with <@U3|maria>")
    assert "You manage side B of P-1" in await room.slash("U3", "partnership P-1 accept", channel="DU3")
    assert "dana is invited to P-1" in await room.slash("U1", "partnership P-1 add <@U2|dana>")
    assert "ana is now your manager" in await room.slash("U2", "partnership P-1 accept", channel="DU2")
    assert "Partnerbot verbs" in await room.slash("U2", "help", channel="DU2")  # her Slack profile: New York
    room.delivered()

    # Maria asks Dana from her DM; Dana gets it by DM, with the three buttons
    sent = await room.slash("U3", f"ask <@U2|dana> {REQUEST} by fri re P-1", channel="DU3")
    assert sent == (f"Q-1 sent to dana: {REQUEST} — by Fri 27 Nov, re P-1 Acme Alliance. "
                    f"I'll tell you when they respond.")
    (request,) = room.delivered()
    assert request.to == "DU2"
    assert request.text == (f"maria asks you for help (Q-1): {REQUEST} — by Fri 27 Nov, re P-1 Acme Alliance. "
                            f"Accept, decline or answer it.")
    assert [(e["text"]["text"], e["value"], e.get("style")) for e in buttons_of(request.raw)] == [
        ("Accept", "ask Q-1 accept", "primary"), ("Decline", "ask Q-1 decline", "danger"),
        ("Answer", "ask Q-1 answer", None)]
    assert_valid_slack_message(request.raw)

    # a second before 24 h nothing; at 24 h the nudge, by DM, with the buttons; the same tick again: nothing
    await quiet(room, at("2026-11-24 09:59:59"))
    tick = await room.tick(NUDGE)
    assert tick.work == {"ask follow-ups": 1}
    (nudge,) = tick.seen
    assert nudge.to == "DU2" and nudge.text == (
        f"Reminder: maria is still waiting for your response to Q-1 (asked Mon 23 Nov 05:00 (America/New_York)): "
        f"{REQUEST} — by Fri 27 Nov, re P-1 Acme Alliance. Accept, decline or answer it.")
    assert nudge.buttons == BUTTONS
    assert_valid_slack_message(nudge.raw)
    await quiet(room, NUDGE)

    # Maria's list shows what she is waiting on
    listed = await room.slash("U3", "list", channel="DU3", when=at("2026-11-25 12:00"))
    assert f"Q-1 · {REQUEST} · waiting on dana · by Fri 27 Nov · no response yet" in listed

    # at 72 h Dana's manager, Ana, is told (on her clock), once
    await quiet(room, at("2026-11-26 09:59:59"))
    tick = await room.tick(ESCALATE)
    assert tick.work == {"ask follow-ups": 1}
    (escalation,) = tick.seen
    assert escalation.to == "DU1" and escalation.text == (
        f"dana has not responded to Q-1 from maria since Mon 23 Nov 11:00 (Europe/Berlin): {REQUEST} — by Fri 27 Nov, "
        f"re P-1 Acme Alliance. Worth a word with dana.")
    assert escalation.buttons == []
    assert_valid_slack_message(escalation.raw)
    await quiet(room, ESCALATE)

    # Dana clicks Answer on the nudge: a modal asks for the answer; clicking changes nothing
    before = await snapshot(db)
    click = await room.click(nudge, "Answer", when=at("2026-11-26 11:00"))
    (opened,) = fake_slack.calls_to("views.open")
    assert opened.args["trigger_id"] == click["trigger_id"] and click["type"] == "block_actions"
    view = opened.args["view"]
    assert (view["title"]["text"], view["submit"]["text"]) == ("Answer Q-1", "Send")
    assert json.loads(view["private_metadata"]) == {"command": "ask Q-1 answer", "channel": "DU2", "direct": True}
    (answer_input,) = inputs_of(view)
    assert answer_input["block_id"] == "answer"
    assert await snapshot(db) == before and room.delivered() == []

    # an empty answer is refused in the modal; an answer goes to Maria, and Dana gets the result by DM
    refused = await room.submit(view, {"answer": ""}, user="U2")
    assert refused == {"response_action": "errors", "errors": {"answer": "Write the answer before sending it."}}
    assert await snapshot(db) == before
    assert await room.submit(view, {"answer": "approved: net 60 for this order"}, user="U2") is None
    assert sorted(where(room.delivered())) == [
        ("DU2", f"You answered Q-1 ({REQUEST}): approved: net 60 for this order. maria has been told."),
        ("DU3", f"dana answered Q-1 ({REQUEST}): approved: net 60 for this order"),
    ]
    (q1,) = await rows(db, Ask)
    assert (q1.status, q1.answer, q1.first_response_at, q1.cadence_at) == (
        "answered", "approved: net 60 for this order", at("2026-11-26 11:00"), None)

    # nothing more; every message once, where its reader reads it
    await quiet(room, at("2026-11-29 20:00"))
    assert "Q-1" not in await room.slash("U3", "list", channel="DU3")
    assert ledger(room.everything + room.delivered()) == ledger_of([
        ("DU3", "ana proposes P-1 Acme Alliance with you"),
        ("DU1", "maria accepted P-1 Acme Alliance: they manage side B"),
        ("DU2", "ana invites you to side A of P-1 Acme Alliance"),
        ("DU1", "dana accepted: they are on side A of P-1 Acme Alliance"),
        ("DU1", "You are now dana's manager in Partnerbot"),
        ("DU2", "maria asks you for help (Q-1): special credit terms"),
        ("DU2", "Reminder: maria is still waiting for your response to Q-1"),
        ("DU1", "dana has not responded to Q-1 from maria"),
        ("DU3", "dana answered Q-1 (special credit terms"),
        ("DU2", "You answered Q-1 (special credit terms"),
    ])
    claims = sorted(c.key.split(":")[0] for c in await rows(db, Claim) if c.key.startswith("ask."))
    assert claims == ["ask.escalate", "ask.nudge"]
    assert {m.status for m in await rows(db, OutboxMessage)} == {"sent"}


async def test_slack_accept_on_the_request_stops_the_nudge_and_tells_the_asker(room, db, fake_slack):
    await room.slash("U2", f"ask <@U3|maria> {REQUEST}", channel="DU2")
    (request,) = room.delivered()

    await room.click(request, "Accept", when=at("2026-11-23 12:00"))
    (update,) = fake_slack.calls_to("chat.update")  # the request says so in place
    assert update.args["channel"] == "DU3" and update.args["text"].startswith(f"You accepted Q-1: {REQUEST}.")
    assert [e["value"] for e in buttons_of(update.args)] == ["ask Q-1 decline", "ask Q-1 answer"]
    assert where(room.delivered()) == [("DU2", f"maria accepted Q-1: {REQUEST}. They'll answer it here.")]

    await quiet(room, NUDGE)
    await quiet(room, ESCALATE)


# --- Teams ---------------------------------------------------------------------------------------
async def test_teams_ask_is_nudged_escalated_accepted_and_answered_from_adaptive_card_buttons(room, db, connector):
    # Jonas (Tokyo) runs P-1 with Pat from his 1:1 chat and adds Maria: Jonas is her manager
    # (Pat and Maria have talked to the bot: their invitations come to their chats at once)
    assert (await room.teams(PAT, "help")).fallback.startswith("Partnerbot verbs")
    assert (await room.teams(MARIA, "help", local_timezone=BERLIN)).fallback.startswith("Partnerbot verbs")
    created = await room.teams(JONAS, "partnership new Globex Alliance with <at>Pat</at>", entities=[mention(PAT)],
                               local_timezone=TOKYO)
    assert "P-1 Globex Alliance proposed" in created.fallback
    assert "You manage side B of P-1" in (await room.teams(PAT, "partnership P-1 accept")).fallback
    added = await room.teams(JONAS, "partnership P-1 add <at>Maria</at>", entities=[mention(MARIA)])
    assert "Maria is invited to P-1" in added.fallback
    assert "Jonas is now your manager" in (await room.teams(MARIA, "partnership P-1 accept")).fallback
    asked = await room.teams(LEE, f"ask <at>Maria</at> {REQUEST} by fri", entities=[mention(MARIA)])
    assert asked.fallback == f"Q-1 sent to Maria: {REQUEST} — by Fri 27 Nov. I'll tell you when they respond."
    (request,) = [s for s in room.delivered() if s.to == "a:personal-aad-maria" and s.text.startswith("Lee asks")]
    assert request.raw.method == "POST" and request.raw.reply_to not in room.typed  # a message of its own
    assert request.text.startswith(f"Lee asks you for help (Q-1): {REQUEST} — by Fri 27 Nov.")
    assert request.buttons == BUTTONS

    # the nudge at 24 h: an Adaptive Card in her 1:1 chat whose buttons are Action.Submit
    await quiet(room, at("2026-11-24 09:59"))
    tick = await room.tick(NUDGE)
    assert tick.work == {"ask follow-ups": 1}
    (nudge,) = tick.seen
    assert (nudge.platform, nudge.to) == ("teams", "a:personal-aad-maria") and nudge.raw.method == "POST"
    assert nudge.text.startswith("Reminder: Lee is still waiting for your response to Q-1 "
                                 "(asked Mon 23 Nov 11:00 (Europe/Berlin))")
    card = nudge.raw.card
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == "Q-1 is waiting for your response"
    assert [(a["type"], a["title"], a["data"], a.get("style")) for a in card["actions"]] == [
        ("Action.Submit", "Accept", {"command": "ask Q-1 accept"}, "positive"),
        ("Action.Submit", "Decline", {"command": "ask Q-1 decline"}, "destructive"),
        ("Action.Submit", "Answer", {"command": "ask Q-1 answer"}, None),
    ]
    await quiet(room, NUDGE)

    # at 72 h her manager Jonas is told, in his 1:1 chat, on his clock
    await quiet(room, at("2026-11-26 09:59"))
    tick = await room.tick(ESCALATE)
    assert tick.work == {"ask follow-ups": 1}
    (escalation,) = tick.seen
    assert escalation.to == "a:personal-aad-jonas" and escalation.text == (
        f"Maria has not responded to Q-1 from Lee since Mon 23 Nov 19:00 (Asia/Tokyo): {REQUEST} — "
        f"by Fri 27 Nov. Worth a word with Maria.")
    assert escalation.raw.card["body"][0]["text"] == "Q-1 is waiting on Maria"
    await quiet(room, ESCALATE)

    # Maria clicks Accept on the nudge card: the card is replaced in place, Lee is told
    chat = "a:personal-aad-maria"
    accepted = await room.teams(MARIA, None, conversation=chat, value={"command": "ask Q-1 accept"},
                                reply_to=nudge.raw.id, when=at("2026-11-26 12:00"))
    assert (accepted.method, accepted.reply_to) == ("PUT", nudge.raw.id)
    assert accepted.fallback.startswith(f"You accepted Q-1: {REQUEST}. Lee has been told")
    assert accepted.submits == [("Decline", "ask Q-1 decline"), ("Answer", "ask Q-1 answer")]
    assert where([s for s in room.delivered() if s.to != chat]) == [
        ("a:personal-aad-lee", f"Maria accepted Q-1: {REQUEST} — by Fri 27 Nov. They'll answer it here.")]

    # then Answer on that card: a card form; its submit answers, and Lee gets the answer
    opened = await room.teams(MARIA, None, conversation=chat, value={"command": "ask Q-1 answer"},
                              reply_to=accepted.reply_to, when=at("2026-11-26 12:05"))
    inputs = {e["id"]: e for e in opened.card["body"] if e["type"].startswith("Input.")}
    assert list(inputs) == ["answer"] and inputs["answer"]["type"] == "Input.Text"
    (send,) = opened.card["actions"]
    assert (send["title"], send["data"]["command"], send["data"]["pb_form"]) == ("Send", "ask Q-1 answer", True)
    answered = await room.teams(MARIA, None, conversation=chat, reply_to=opened.id,
                                value={**send["data"], "answer": "RMA-2231, ship it to the Leeds depot"})
    assert (answered.method, answered.reply_to) == ("PUT", opened.id)  # the filled form becomes the result
    assert answered.fallback.startswith(f"You answered Q-1 ({REQUEST}): RMA-2231, ship it to the Leeds depot.")
    told = [s for s in room.delivered() if s.to == "a:personal-aad-lee"]
    assert [s.text for s in told] == [f"Maria answered Q-1 ({REQUEST}): RMA-2231, ship it to the Leeds depot"]
    assert told[0].raw.card["body"][0]["text"] == "Q-1 answered by Maria"
    (q1,) = await rows(db, Ask)
    assert (q1.status, q1.accepted_at, q1.first_response_at, q1.answered_at) == (
        "answered", at("2026-11-26 12:00"), at("2026-11-26 12:00"), at("2026-11-26 12:05"))
    await quiet(room, at("2026-11-28 10:00"))


# --- two tick processes at once on PostgreSQL -----------------------------------------------------
def _kind(text: str) -> str:
    if " accepted: they are on side A of P-1" in text:
        return "joined"
    for prefix, kind in (("Reminder: asker", "nudge"), ("asker", "request"), ("mia invites you", "invitation"),
                         ("You are now rep", "manager notice"), ("rep", "escalation"),
                         ("mia proposes P-1", "partnership notice"), ("pat accepted P-1", "partnership notice")):
        if text.startswith(prefix):
            return kind
    return "other: " + text[:60]


@pytest.mark.postgres
async def test_two_ticks_at_once_on_postgresql_nudge_and_escalate_each_ask_exactly_once(
        tmp_path, settings, fake_slack, connector):
    async with fresh_postgres_url() as url:  # skipped, saying why, when PostgreSQL is not there
        async with migrated(url) as db:
            world = World(db, url, tmp_path, fake_slack, connector, ASKED)
            reps = [f"U{i}" for i in range(1, 11)]
            await world.slack("U20", "partnership new Alliance with <@U21|pat>", name="mia", tz="UTC")
            await world.slack("U21", "partnership P-1 accept", name="pat")
            for user in reps:  # mia manages all ten
                await world.slack("U20", f"partnership P-1 add <@{user}|rep{user}>", name="mia")
                await world.slack(user, "partnership P-1 accept", name=f"rep{user}")
                await world.slack(f"A{user}", f"ask <@{user}|rep{user}> a price for {user}", name=f"asker{user}")

            for now, work, each_rep, mia in (
                (NUDGE, {"ask follow-ups": 10}, {"invitation": 1, "request": 1, "nudge": 1},
                 {"partnership notice": 1, "joined": 10, "manager notice": 10}),  # what joining P-1 owed
                (ESCALATE, {"ask follow-ups": 10}, {}, {"escalation": 10}),
            ):
                results = await _two_ticks_released_together(world, url, now)
                seen = world.delivered()
                combined = Counter()
                for r in results:
                    combined.update(r[0])
                assert dict(combined) == work, [r[2] for r in results]
                assert sum(r[1] for r in results) == len(seen)
                for user in reps:
                    assert Counter(_kind(s.text) for s in seen if s.to == user) == each_rep, (user, seen)
                assert Counter(_kind(s.text) for s in seen if s.to == "U20") == mia
            claims = Counter(c.key.split(":")[0] for c in await rows(db, Claim) if c.key.startswith("ask."))
            assert claims == {"ask.nudge": 10, "ask.escalate": 10}
            # pat's invitation and his acceptance; each rep's invitation, joining and new manager; requests,
            # nudges, escalations
            assert len(await rows(db, OutboxMessage)) == 2 + 3 * 10 + 10 + 10 + 10
