"""Issue 19, Slack: requests are verified before anything reads or logs their body.

Through real HTTP against `serve`'s web app: what fails verification is a 401 (unsigned,
forged, replayed) or a 400 (a timestamp that is no number, a body that is no form or JSON or
nests too deep), a 413 past 1 MiB, with nothing changed; each refusal is one short log line
(reason, remote address, never the body), at most one a second per reason.
"""
from __future__ import annotations

import asyncio
import logging
import time

import pytest

from adapters.slack.app import MAX_BODY_BYTES
from storage.models import Commitment
from tests.adapters.test_slack_http import fake_slack, slack  # noqa: F401  (fixtures: serve + fake Slack)
from tests.fakes.slack_requests import json_headers, signed_headers, slash_body
from tests.helpers import rows, snapshot

REFUSALS = "adapters.slack.app"  # the logger of the refusal lines
MARKER = "MARKER-7f3a9c"
# a body an attacker would like to see in our log: a recognisable marker and a forged log line
HOSTILE = slash_body(f"commit {MARKER} by fri\nINFO fake line: admin logged in")
UNSIGNED = {"Content-Type": "application/x-www-form-urlencoded"}


def refusal_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == REFUSALS]


def assert_nothing_of_the_body_logged(caplog) -> None:
    for record in caplog.records:
        text = record.getMessage()
        assert MARKER not in text and "fake line" not in text, text


class Clock:
    """RefusalLog's clock, moved by hand: a burst is one instant, however slow the machine."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(slack):  # noqa: F811
    clock = Clock()
    slack.bot.slack.refusals.clock = clock
    return clock


@pytest.mark.parametrize("headers, reason", [
    (lambda: UNSIGNED, "missing headers"),
    (lambda: signed_headers(HOSTILE, secret="not-the-signing-secret"), "bad signature"),  # forged
    (lambda: signed_headers("another body"), "bad signature"),  # a real signature of something else
], ids=["unsigned", "forged", "signature-of-another-body"])
async def test_an_unverified_request_is_a_401_logged_in_one_short_line_without_its_body(
        slack, caplog, headers, reason):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    before = await snapshot(slack.bot.db)
    response = await slack.post(HOSTILE, headers())
    assert response.status == 401
    assert MARKER not in await response.text()
    (line,) = refusal_lines(caplog)
    assert reason in line and "127.0.0.1" in line
    assert "\n" not in line and len(line) < 120, line
    assert_nothing_of_the_body_logged(caplog)
    assert await snapshot(slack.bot.db) == before
    assert await rows(slack.bot.db, Commitment) == []


async def test_a_burst_of_refusals_logs_one_line_a_second_and_the_next_counts_the_rest(
        slack, caplog, clock):  # noqa: F811
    caplog.set_level(logging.INFO, logger=REFUSALS)
    for _ in range(50):
        assert (await slack.post(HOSTILE, UNSIGNED)).status == 401
    clock.now += 0.5
    assert (await slack.post(HOSTILE, UNSIGNED)).status == 401
    lines = refusal_lines(caplog)
    assert len(lines) == 1 and "more" not in lines[0]

    forged = signed_headers(HOSTILE, secret="not-the-signing-secret")
    assert (await slack.post(HOSTILE, forged)).status == 401  # another reason: its own line at once
    assert "bad signature" in refusal_lines(caplog)[-1]

    clock.now += 0.5  # a second after the first line
    assert (await slack.post(HOSTILE, UNSIGNED)).status == 401
    lines = refusal_lines(caplog)
    assert len(lines) == 3
    assert "missing headers" in lines[-1] and "(and 50 more since the last such line)" in lines[-1]
    assert_nothing_of_the_body_logged(caplog)


async def test_a_burst_in_real_time_logs_at_most_two_lines_a_second(slack, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger=REFUSALS)
    started = time.monotonic()
    for _ in range(50):
        assert (await slack.post(HOSTILE, UNSIGNED)).status == 401
    seconds = time.monotonic() - started
    lines = refusal_lines(caplog)
    assert len(lines) <= 1 + int(seconds), (seconds, lines)  # one a second: just one if it took under a second
    last = [r for r in caplog.records if r.name == REFUSALS][-1]
    await asyncio.sleep(max(0.0, last.created + 1.05 - time.time()))  # a second after the last line
    assert (await slack.post(HOSTILE, UNSIGNED)).status == 401
    lines = refusal_lines(caplog)
    counted = sum(int(line.split("(and ")[1].split()[0]) for line in lines if "(and " in line)
    assert counted + len(lines) == 51  # every refusal logged or counted, none twice
    assert "(and " in lines[-1]


async def test_a_replayed_request_ten_minutes_old_is_a_401_and_changes_nothing(slack, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger=REFUSALS)
    body = slash_body("commit send deck by fri")
    headers = signed_headers(body, timestamp=int(time.time()) - 10 * 60)  # correctly signed, for then
    before = await snapshot(slack.bot.db)
    assert (await slack.post(body, headers)).status == 401
    assert await snapshot(slack.bot.db) == before
    assert "stale timestamp" in refusal_lines(caplog)[-1]


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "", "-5", "１７０００００００"])
async def test_a_timestamp_that_is_not_a_number_is_a_400(slack, caplog, timestamp):  # noqa: F811
    caplog.set_level(logging.INFO, logger=REFUSALS)
    body = slash_body("commit send deck by fri")
    headers = {**signed_headers(body), "X-Slack-Request-Timestamp": timestamp}
    before = await snapshot(slack.bot.db)
    assert (await slack.post(body, headers)).status == 400
    assert await snapshot(slack.bot.db) == before
    assert "bad timestamp" in refusal_lines(caplog)[-1]


async def test_a_2_mb_body_is_a_413(slack, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger=REFUSALS)
    body = slash_body("commit " + "x" * 2_000_000 + " by fri")
    assert len(body) > 2_000_000 > MAX_BODY_BYTES
    before = await snapshot(slack.bot.db)
    assert (await slack.post(body, signed_headers(body))).status == 413
    assert await snapshot(slack.bot.db) == before
    (line,) = refusal_lines(caplog)
    assert "body too large" in line and len(line) < 120


async def test_200000_levels_of_nesting_signed_are_a_400_and_the_server_still_answers(slack):  # noqa: F811
    body = "payload=" + "[" * 200_000 + "]" * 200_000  # brackets need no escaping in a form (400 KB)
    before = await snapshot(slack.bot.db)
    assert (await slack.post(body, signed_headers(body))).status == 400
    deep_object = '{"type": "block_actions", "a": ' + '{"a": ' * 100 + "1" + "}" * 101
    assert (await slack.post(deep_object, json_headers(deep_object))).status == 400  # as JSON: deeper than 64
    healthz = await slack.http.get(f"{slack.url}/healthz")
    assert healthz.status == 200 and (await healthz.json())["ok"] is True
    assert await snapshot(slack.bot.db) == before
    assert "C-1 saved" in (await slack.slash("commit send deck by fri"))["text"]  # and still works


@pytest.mark.parametrize("body, headers", [
    ("this is not a form & not JSON", signed_headers),
    ("text=a&&command=%2Fpartner", signed_headers),  # an empty field
    ('{"type": "event_callback", ', json_headers),  # cut short
    ("[1, 2]", json_headers),  # JSON, but no object
    ("null", json_headers),
    ("payload=not-json", signed_headers),
    ("payload=%5B1%5D", signed_headers),  # a payload that is no object
], ids=["words", "empty-field", "cut-json", "json-array", "json-null", "payload-not-json",
        "payload-array"])
async def test_a_signed_body_that_is_not_a_form_or_json_object_is_a_400(slack, body, headers):  # noqa: F811
    before = await snapshot(slack.bot.db)
    response = await slack.post(body, headers(body))
    assert response.status == 400, await response.text()
    assert await snapshot(slack.bot.db) == before


async def test_a_slash_command_with_the_word_payload_still_works(slack):  # noqa: F811
    answer = await slack.slash("commit send payload docs by fri")
    assert answer["text"].startswith("C-1 saved"), answer
    (c,) = await rows(slack.bot.db, Commitment)
    assert c.what == "send payload docs"


async def test_a_2_mb_body_sent_in_chunks_without_a_length_is_a_413(slack):  # noqa: F811
    body = slash_body("commit " + "x" * 2_000_000 + " by fri")

    async def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024].encode()

    response = await slack.http.post(f"{slack.url}/slack/events", data=chunks(), headers=signed_headers(body))
    assert response.status == 413
    assert await rows(slack.bot.db, Commitment) == []


async def test_a_command_past_4000_characters_is_refused_and_a_hostile_one_at_4000_answers_while_healthz_does(
        slack):  # noqa: F811
    """The stall of the issue: a 6 KB `commit … re re re …` held the server for 5.5 s."""
    before = await snapshot(slack.bot.db)
    answer = await slack.slash("commit " + "x " * 2000)
    assert "at most 4,000 characters" in answer["text"] and await snapshot(slack.bot.db) == before

    hostile = "commit " + " re re" * 663 + " by fri"
    assert len(hostile) <= 4000
    command = asyncio.ensure_future(slack.slash(hostile))
    health = await slack.http.get(f"{slack.url}/healthz")  # sent while the command is being answered
    assert health.status == 200
    assert "C-1 saved" in (await command)["text"]
