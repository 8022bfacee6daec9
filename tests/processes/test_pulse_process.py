"""The monthly health pulse end to end: people typing over the real Slack and Teams endpoints of
an in-process app on a fixed clock (test_meeting_process's Room), time moved only by real
`partnerbot tick --now …` processes, and every message read where people read it: the fake
Slack Web API and the fake Bot Framework connector.

1. Slack, with a Teams rep: Ana (Slack U1, Berlin) and Dana (U2, New York) manage P-1 Acme
   Alliance, bound to Slack channel C1; Maria (U3) is on Ana's side, Jonas (Teams) on Dana's.
   The pulse opens Mon 7 Dec 2026 at 09:00 on Ana's clock; Dana answers in the Slack modal,
   Jonas in the Teams card; Maria does not; at close the imbalance report goes to both managers
   and C1.
2. Teams only: Jonas (New York) and Maria manage P-1 Globex Alliance in a Teams channel, Lee is
   Jonas's rep. Made after December's opening, its first pulse is January's; when the last
   member answers the results go to both managers' chats and the channel at once.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime

import pytest

from bot.config import load_settings
from bot.wiring import Partnerbot
from storage.models import Claim, OutboxMessage, Pulse, PulseAnswer
from tests.conftest import migrated
from tests.fakes.teams_connector import mention, person
from tests.helpers import rows, snapshot
from tests.peer_sync.test_sync_platforms import assert_valid_slack_message, inputs_of, shown_text
from tests.postgres import fresh_postgres_url
from tests.processes.test_cadence_process import BERLIN, NEW_YORK, Seen, World, _two_ticks_released_together, at
from tests.processes.test_meeting_process import SLACK_NAMES, TEAMS_CHANNEL, TOKYO, Room, buttons_of, ledger, ledger_of

pytestmark = pytest.mark.process

ANA_TEAMS, MARIA_TEAMS = person("aad-ana", "Ana"), person("aad-maria", "Maria")
DANA_TEAMS = person("aad-dana", "Dana")
JONAS, LEE = person("aad-jonas", "Jonas"), person("aad-lee", "Lee")
PROMPT = "Time for the monthly health pulse of P-1"
RESULTS = "Health pulse · P-1"
DIMS = ["risk", "resources", "rewards", "vision", "values"]


def ratings(risk, resources, rewards, vision, values, comment=None) -> dict:
    values_ = dict(zip(DIMS, (str(risk), str(resources), str(rewards), str(vision), str(values))))
    return {**values_, "comment": comment} if comment is not None else values_


def pulse_messages(seen: list[Seen]) -> list[Seen]:
    """Only the pulse's messages (the same Mondays bring the managers' peer-sync prompts too)."""
    return [s for s in seen if s.text.startswith(("Time for the monthly health pulse of P-", "Health pulse · P-"))]


def where(seen: list[Seen]) -> list[tuple[str, str, str]]:
    """(platform, conversation, PROMPT or RESULTS) of each pulse message, sorted."""
    return sorted((s.platform, s.to, PROMPT if s.text.startswith(PROMPT) else RESULTS) for s in seen)


async def make_room(db, db_url, tmp_path, fake_slack, connector, now: datetime, min_answers: int | None = None):
    """`min_answers`: cadence.pulse.min_answers for the ticks and the in-process bot alike (these
    partnerships' sides have one or two members, too few to show under the default 3)."""
    fake_slack.timezones.update({"U1": BERLIN, "U2": NEW_YORK, "U3": TOKYO})  # their Slack profiles
    fake_slack.names.update(SLACK_NAMES)
    room = Room(db, db_url, tmp_path, fake_slack, connector, now)
    if min_answers is not None:
        room.env["PARTNERBOT_CADENCE__PULSE__MIN_ANSWERS"] = str(min_answers)
        room.bot = Partnerbot(load_settings({**room.env, "PARTNERBOT_OUTBOX__POLL_SECONDS": "3600"}), room.clock)
    return room


# --- 1. Slack and a Teams rep: the monthly pulse and its imbalance report ---------------------------
async def test_monthly_pulse_slack_modal_and_teams_card_answers_and_the_imbalance_report_at_close(
        db, db_url, tmp_path, settings, fake_slack, connector):
    async with await make_room(db, db_url, tmp_path, fake_slack, connector, at("2026-12-02 10:00"),
                               min_answers=1) as room:
        created = await room.slash("U1", "partnership new Acme Alliance with <@U2|dana>")
        assert "P-1 Acme Alliance proposed" in created and "This channel is bound" in created
        assert "You manage side B of P-1" in await room.slash("U2", "partnership P-1 accept", channel="DU2")
        assert "maria is invited to P-1 Acme Alliance, side A" in await room.slash("U1", "partnership P-1 add <@U3|maria>")
        assert "You joined side A of P-1" in await room.slash("U3", "partnership P-1 accept", channel="DU3")
        # Dana, linked on Teams too, adds Jonas (Teams) to her side; Jonas has talked to the bot
        code = re.search(r"link code is (\w+)", await room.slash("U2", "link", channel="DU2")).group(1)
        await room.teams(DANA_TEAMS, f"link {code}")
        assert "Linked" in await room.slash("U2", "link confirm", channel="DU2")  # the code's issuer confirms
        assert (await room.teams(JONAS, "help")).fallback
        added = await room.teams(DANA_TEAMS, "partnership P-1 add <at>Jonas</at>", entities=[mention(JONAS)])
        assert "Jonas is invited to P-1 Acme Alliance, side B" in added.fallback
        assert "You joined side B of P-1" in (await room.teams(JONAS, "partnership P-1 accept")).fallback
        assert "help" in (await room.slash("U2", "help", channel="DU2")).lower()  # Dana's profile: New York
        room.delivered()

        # Mon 7 Dec: 09:00 in Berlin is 08:00 UTC; a second before, nothing
        tick = await room.tick(at("2026-12-07 07:59:59"))
        assert (tick.work, tick.seen) == ({}, [])
        tick = await room.tick(at("2026-12-07 08:00"))
        assert tick.work == {"health pulses": 1, "sync prompts": 1}  # (and Ana's weekly peer sync)
        prompts = pulse_messages(tick.seen)
        assert where(prompts) == [("slack", "DU1", PROMPT), ("slack", "DU2", PROMPT), ("slack", "DU3", PROMPT),
                                  ("teams", "a:personal-aad-jonas", PROMPT)]
        for prompt in prompts:
            assert prompt.buttons == [("Answer", "pulse answer P-1")]
        (dana_prompt,) = [s for s in prompts if s.to == "DU2"]
        assert "Open until Thu 10 Dec 03:00 (America/New_York)" in dana_prompt.text
        assert_valid_slack_message(dana_prompt.raw)
        (jonas_prompt,) = [s for s in prompts if s.platform == "teams"]
        assert [(a["type"], a["title"], a["data"]) for a in jonas_prompt.raw.card["actions"]] == [
            ("Action.Submit", "Answer", {"command": "pulse answer P-1"})]
        again = await room.tick(at("2026-12-07 08:00"))  # the same instant again: nothing twice
        assert (again.work, again.seen) == ({}, [])

        # Dana clicks Answer in Slack: a modal of five ratings and a comment
        await room.click(dana_prompt, "Answer", when=at("2026-12-07 15:00"))
        (opened,) = fake_slack.calls_to("views.open")
        view = opened.args["view"]
        assert view["title"]["text"] == "Health pulse P-1" and view["submit"]["text"] == "Submit"
        assert json.loads(view["private_metadata"])["command"] == "pulse submit P-1 2026-12"
        fields = inputs_of(view)
        assert [(b["block_id"], b["label"]["text"], b["element"]["type"]) for b in fields] == [
            ("risk", "Shared risk", "static_select"), ("resources", "Shared resources", "static_select"),
            ("rewards", "Shared rewards", "static_select"), ("vision", "Shared vision", "static_select"),
            ("values", "Shared values", "static_select"), ("comment", "Comment (optional)", "plain_text_input")]
        assert {b["hint"]["text"] for b in fields[:5]} == {"1 (poor) to 5 (strong)"}
        # a rating is picked from 1 to 5, never typed
        assert [o["value"] for o in fields[0]["element"]["options"]] == ["1", "2", "3", "4", "5"]
        assert fields[0]["element"]["placeholder"]["text"] == "Pick 1-5"

        # a rating left unpicked: the modal stays open, the reason under that rating, nothing saved
        before = await snapshot(db)
        answers = {**ratings(2, 4, 2, 4, 3, "Margins go to them"), "risk": None}
        refused = await room.submit(view, answers, user="U2")
        assert refused == {"response_action": "errors",
                           "errors": {"risk": "Missing: pick 1 (poor) to 5 (strong)."}}
        assert await snapshot(db) == before and room.delivered() == []
        # Slack keeps the modal and what she picked and typed; she picks the missing rating
        assert await room.submit(view, {**answers, "risk": "2"}, user="U2") is None  # the modal closes
        (told,) = room.delivered()
        assert told.to == "DU2" and told.text.startswith("Your health pulse answer for P-1 Acme Alliance is saved.")

        # Jonas clicks Answer on the Teams card: the form is a card with inputs; he submits it
        form = await room.teams(JONAS, None, conversation="a:personal-aad-jonas",
                                value={"command": "pulse answer P-1"}, reply_to=jonas_prompt.raw.id)
        assert form.fallback == "Opening the health pulse form of P-1 Acme Alliance."
        inputs = [(e["id"], e["type"], e.get("style")) for e in form.card["body"] if e["type"].startswith("Input.")]
        assert inputs == [(dim, "Input.ChoiceSet", "compact") for dim in DIMS] + [("comment", "Input.Text", None)]
        assert [c["value"] for c in form.card["body"][2]["choices"]] == ["1", "2", "3", "4", "5"]
        (submit,) = form.card["actions"]
        assert submit["data"]["command"] == "pulse submit P-1 2026-12"
        # a rating his client sent out of range: the card comes back in place, his answers in it,
        # the reason under that rating; nothing is saved
        before = await snapshot(db)
        again = await room.teams(JONAS, None, value={**submit["data"], **ratings(3, 4, 9, 5, 4, "Joint calls help")},
                                 reply_to=form.id)
        assert (again.method, again.reply_to) == ("PUT", form.id)
        body = again.card["body"]
        shown = {e["id"]: e.get("value") for e in body if e["type"].startswith("Input.")}
        assert shown == {"risk": "3", "resources": "4", "rewards": None, "vision": "5", "values": "4",
                         "comment": "Joint calls help"}  # 9 is no choice: the set shows none
        rewards = next(i for i, e in enumerate(body) if e.get("id") == "rewards")
        assert [(e["text"], e.get("color")) for e in body[rewards + 1:rewards + 3]] == [
            ("1 (poor) to 5 (strong)", None), ("9 is outside 1 to 5: pick 1 (poor) to 5 (strong).", "Attention")]
        assert await snapshot(db) == before
        (submit,) = again.card["actions"]
        saved = await room.teams(JONAS, None, value={**submit["data"], **ratings(3, 4, 1, 5, 4, "Joint calls help")},
                                 reply_to=form.id)
        assert (saved.method, saved.reply_to) == ("PUT", form.id)  # the filled form becomes the result
        assert saved.fallback.startswith("Your health pulse answer for P-1 Acme Alliance is saved.")

        # Ana answers from a slash command; Maria never does
        assert (await room.slash("U1", "pulse answer P-1", channel="DU1")).startswith("Opening the health pulse form")
        assert await room.submit(fake_slack.calls_to("views.open")[-1].args["view"],
                                 ratings(5, 4, 5, 4, 4, "We bring every lead"), user="U1") is None
        assert sorted((a.side, a.scores["risk"]) for a in await rows(db, PulseAnswer) if a.answered_at) == [
            ("a", 5), ("b", 2), ("b", 3)]
        room.delivered()

        # Thu 10 Dec 08:00 UTC, three days on: closed, the report to both managers and C1
        tick = await room.tick(at("2026-12-10 07:59:59"))
        assert pulse_messages(tick.seen) == [] and "health pulses" not in tick.work
        tick = await room.tick(at("2026-12-10 08:00"))
        assert tick.work["health pulses"] == 1
        reports = pulse_messages(tick.seen)
        assert where(reports) == [("slack", "C1", RESULTS), ("slack", "DU1", RESULTS), ("slack", "DU2", RESULTS)]
        assert len({s.text.removesuffix("\ncc <@U1> <@U2>") for s in reports}) == 1
        assert reports[0].text.endswith("\ncc <@U1> <@U2>")  # in C1, both managers are notified
        # Hand-worked: side A (Ana alone) 5, 4, 5, 4, 4; side B (Dana 2, 4, 2, 4, 3; Jonas 3, 4, 1, 5, 4)
        # 2.5, 4.0, 1.5, 4.5, 3.5. Gaps 2.5, 0.0, 3.5, 0.5, 0.5: risk and rewards are imbalances.
        report = reports[0].text.removesuffix("\ncc <@U1> <@U2>")
        assert report.startswith("Health pulse · P-1 Acme Alliance · December 2026\n"
                                 "Side A (ana): 1 of 2 answered. Side B (dana): 2 of 2 answered.\n"
                                 "Imbalance: shared risk (A 5.0, B 2.5, gap 2.5); "
                                 "shared rewards (A 5.0, B 1.5, gap 3.5).")
        for line in ("Shared risk: A 5.0 · B 2.5 · imbalance", "Shared resources: A 4.0 · B 4.0",
                     "Shared rewards: A 5.0 · B 1.5 · imbalance", "Shared vision: A 4.0 · B 4.5",
                     "Shared values: A 4.0 · B 3.5"):
            assert f"  {line}\n" in report
        assert report.endswith("Comments · Side A (ana):\n  • We bring every lead\n\n"
                               "Comments · Side B (dana):\n  • Margins go to them\n  • Joint calls help")
        channel_post = next(s for s in reports if s.to == "C1")
        shown = shown_text(assert_valid_slack_message(channel_post.raw))  # what Slack shows: the blocks
        assert "*Shared rewards*\nA 5.0 · B 1.5 · imbalance" in shown
        assert buttons_of(channel_post.raw) == []
        (pulse,) = await rows(db, Pulse)
        assert pulse.closed_at == at("2026-12-10 08:00")

        # nothing more, ever: the same instant again, and the next day
        for when in ("2026-12-10 08:00", "2026-12-11 08:00"):
            assert pulse_messages((await room.tick(at(when))).seen) == []
        assert ledger(pulse_messages(room.everything)) == ledger_of([
            ("DU1", PROMPT), ("DU2", PROMPT), ("DU3", PROMPT), ("a:personal-aad-jonas", PROMPT),
            ("C1", RESULTS + " Acme Alliance · Dec"), ("DU1", RESULTS + " Acme Alliance · Dec"),
            ("DU2", RESULTS + " Acme Alliance · Dec")])
        assert {m.status for m in await rows(db, OutboxMessage)} == {"sent"}


# --- 2. Teams only: January's pulse, everyone answers, the results at once ------------------------------
async def test_teams_partnership_made_after_decembers_opening_has_januarys_and_the_last_answer_sends_results(
        db, db_url, tmp_path, settings, fake_slack, connector):
    async with await make_room(db, db_url, tmp_path, fake_slack, connector, at("2026-12-07 15:00"),
                               min_answers=1) as room:
        for someone in (MARIA_TEAMS, LEE):  # they have talked to the bot, so it can reach them
            assert (await room.teams(someone, "help")).fallback
        # Mon 7 Dec, 10:00 in New York: December's opening (09:00 there) is past
        created = await room.say_in_channel(JONAS, "partnership new Globex Alliance with <at>Maria</at>",
                                            entities=(mention(MARIA_TEAMS),), local_timezone=NEW_YORK)
        assert "P-1 Globex Alliance proposed" in created.fallback and "This channel is bound" in created.fallback
        assert "You manage side B of P-1" in (await room.teams(MARIA_TEAMS, "partnership P-1 accept")).fallback
        added = await room.say_in_channel(JONAS, "partnership P-1 add <at>Lee</at>", entities=(mention(LEE),))
        assert "Lee is invited to P-1 Globex Alliance, side A" in added.fallback
        assert "You joined side A of P-1" in (await room.teams(LEE, "partnership P-1 accept")).fallback
        room.delivered()

        tick = await room.tick(at("2026-12-07 15:01"))
        assert pulse_messages(tick.seen) == [] and "health pulses" not in tick.work
        # Mon 4 Jan 2027, 09:00 in New York (EST) is 14:00 UTC
        tick = await room.tick(at("2027-01-04 13:59:59"))
        assert pulse_messages(tick.seen) == [] and "health pulses" not in tick.work
        tick = await room.tick(at("2027-01-04 14:00"))
        assert tick.work["health pulses"] == 1
        prompts = {s.to: s for s in pulse_messages(tick.seen)}
        assert sorted(prompts) == ["a:personal-29:aad-jonas", "a:personal-aad-lee", "a:personal-aad-maria"]
        assert all(s.buttons == [("Answer", "pulse answer P-1")] for s in prompts.values())
        assert [p.period for p in await rows(db, Pulse)] == ["2027-01"]

        async def answers(who: dict, values: dict) -> str:
            chat = next(c for c in prompts if c.endswith(who["aadObjectId"]))
            form = await room.teams(who, None, conversation=chat, value={"command": "pulse answer P-1"},
                                    reply_to=prompts[chat].raw.id)
            (submit,) = form.card["actions"]
            saved = await room.teams(who, None, conversation=chat, value={**submit["data"], **values},
                                     reply_to=form.id)
            assert saved.method == "PUT", saved.fallback
            assert saved.fallback.startswith("Your health pulse answer for P-1 Globex Alliance is saved.")
            return saved.fallback

        # side A: Jonas 4, 4, 4, 4, 4 and Lee 4, 5, 4, 4, 4 → 4.0, 4.5, 4.0, 4.0, 4.0;
        # side B: Maria 3, 3, 3, 3, 1 → 3.0, 3.0, 3.0, 3.0, 1.0: only values is 2 or more apart (3.0)
        await answers(JONAS, ratings(4, 4, 4, 4, 4))
        await answers(MARIA_TEAMS, ratings(3, 3, 3, 3, 1, "We do not work the same way"))
        assert pulse_messages(room.delivered()) == []
        last = await answers(LEE, ratings(4, 5, 4, 4, 4, "Great joint demos"))
        assert "Everyone has answered: the results are on their way" in last
        reports = pulse_messages(room.delivered())
        chats = ["a:personal-29:aad-jonas", "a:personal-aad-maria"]  # (Jonas's: opened by the bot)
        assert sorted(s.to for s in reports) == sorted([TEAMS_CHANNEL, *chats])
        report = reports[0]
        assert report.text.startswith("Health pulse · P-1 Globex Alliance · January 2027\n"
                                      "Side A (Jonas): 2 of 2 answered. Side B (Maria): 1 of 1 answered.\n"
                                      "Imbalance: shared values (A 4.0, B 1.0, gap 3.0).")
        in_channel = next(s for s in reports if s.to == TEAMS_CHANNEL)
        assert in_channel.raw.method == "POST" and in_channel.raw.reply_to not in room.typed  # its own post
        facts = [f for e in in_channel.raw.card["body"] if e["type"] == "FactSet" for f in e["facts"]]
        assert {"title": "Shared resources", "value": "A 4.5 · B 3.0"} in facts
        assert {"title": "Shared values", "value": "A 4.0 · B 1.0 · imbalance"} in facts
        texts = [e["text"] for e in in_channel.raw.card["body"] if e["type"] == "TextBlock"]
        assert "• Great joint demos" in texts and "• We do not work the same way" in texts

        # the deadline finds it closed: nothing more
        tick = await room.tick(at("2027-01-07 14:00"))
        assert pulse_messages(tick.seen) == [] and "health pulses" not in tick.work


# --- 3. two processes, one PostgreSQL: each pulse opened, prompted and reported once ---------------------
@pytest.mark.postgres
async def test_two_ticks_at_once_on_postgresql_open_each_pulse_once_and_send_its_results_once(
        tmp_path, settings, fake_slack, connector):
    async with fresh_postgres_url() as url:  # skipped, saying why, when PostgreSQL is not there
        async with migrated(url) as db:
            world = World(db, url, tmp_path, fake_slack, connector, at("2026-11-28 12:00"))  # Sat; all in UTC
            members = {f"U{i}" for i in range(1, 10)}
            for n, (a, b, rep) in enumerate((("U1", "U2", "U7"), ("U3", "U4", "U8"), ("U5", "U6", "U9")), 1):
                for user in (b, rep):
                    await world.slack(user, "help", name=f"m{user}", tz="UTC")
                await world.slack(a, f"partnership new Alliance {a} with <@{b}|m{b}>", name=f"m{a}", tz="UTC")
                await world.slack(b, f"partnership P-{n} accept", name=f"m{b}", tz="UTC")
                await world.slack(a, f"partnership P-{n} add <@{rep}|m{rep}>", tz="UTC")
                await world.slack(rep, f"partnership P-{n} accept", name=f"m{rep}", tz="UTC")
            world.delivered()

            # Mon 7 Dec 09:00 UTC: the first Monday (and the managers' peer syncs)
            results = await _two_ticks_released_together(world, url, at("2026-12-07 09:00"))
            prompts = pulse_messages(world.delivered())
            assert Counter(s.to for s in prompts) == {user: 1 for user in members}, [r[2] for r in results]
            assert sum(r[0].get("health pulses", 0) for r in results) == 3
            assert sorted(p.period for p in await rows(db, Pulse)) == ["2026-12"] * 3

            # Thu 10 Dec 09:00: closed; each manager gets the results once, the reps none
            results = await _two_ticks_released_together(world, url, at("2026-12-10 09:00"))
            reports = pulse_messages(world.delivered())
            assert Counter(s.to for s in reports) == {f"U{i}": 1 for i in range(1, 7)}, [r[2] for r in results]
            assert all("Nobody answered this pulse." in s.text for s in reports)
            assert sum(r[0].get("health pulses", 0) for r in results) == 3
            keys = Counter(c.key.split(":", 1)[0] for c in await rows(db, Claim) if c.key.startswith("pulse."))
            assert keys == {"pulse.open": 3, "pulse.results": 3}
