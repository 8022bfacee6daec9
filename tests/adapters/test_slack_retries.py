"""Slack delivers a request again (`X-Slack-Retry-Num: 1`, `X-Slack-Retry-Reason: http_timeout`)
when our answer was slow: the same body, so the same trigger_id or event_id. Each is
acknowledged (200) and carried out once: one record, one log row, one outbox message, one call
of each kind to the Web API.

What we rely on: slack-bolt does nothing with X-Slack-Retry-Num over HTTP (it only copies
Socket Mode's retry_attempt into that header, bolt-python#1498); a retried request reaches our
listeners like a new one. We do not drop requests on the header either (a retry after a first
attempt that crashed must still be carried out): the dispatcher claims each delivery id
(`slack:<team>:<trigger_id>[:<action_id>]`, `slack:<team>:event:<event_id>`) in the command's
own transaction, so a second delivery, sequential or concurrent, finds it claimed.
"""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from storage.models import ActivityLog, Ask, Commitment, Handoff, OutboxMessage
from tests.adapters.test_slack_http import fake_slack, slack  # noqa: F401  (fixtures)
from tests.fakes.slack_requests import (
    button_body,
    event_body,
    json_headers,
    signed_headers,
    slash_body,
    view_submission_body,
)
from tests.helpers import count, rows, snapshot

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
# Web API methods that change something a person sees (users.info is a read)
WRITES = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish",
          "conversations.open")


def writes(fake) -> dict[str, int]:
    return {method: len(fake.calls_to(method)) for method in WRITES if fake.calls_to(method)}


async def drained(db, timeout: float = 20.0) -> None:
    """Wait until the outbox sender has sent everything owed (no message left pending)."""
    deadline = time.monotonic() + timeout
    while any(m.status == "pending" for m in await rows(db, OutboxMessage)):
        assert time.monotonic() < deadline, [(m.idempotency_key, m.status) for m in await rows(db, OutboxMessage)]
        await asyncio.sleep(0.05)


async def settled(slack) -> dict[str, int]:
    """What the bot has done on Slack once its outbox is sent and its background work is over."""
    await drained(slack.bot.db)
    await asyncio.sleep(0.5)  # a second, wrong call would come now
    await drained(slack.bot.db)
    return writes(slack.fake)


async def twice(slack, body: str, headers, *, concurrently: bool = False):
    """Deliver `body`, then again as Slack's retry (signed anew, like Slack does); both answers."""
    first = lambda: slack.post(body, headers(body))  # noqa: E731
    retry = lambda: slack.post(body, {**headers(body), **RETRY})  # noqa: E731
    if concurrently:  # Slack gave up waiting for the first answer, which is still being worked on
        return await asyncio.gather(first(), retry())
    return await first(), await retry()


def click_on(message, value: str, *, user: str) -> str:
    """The interaction Slack sends when `user` clicks the button `value` on a card sent to their DM."""
    button = next(e for b in message.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["value"] == value)
    return button_body(value, user=user, channel=message.args["channel"], message_ts="1.000100",
                       action_id=button["action_id"])


@pytest.mark.parametrize("concurrently", [False, True], ids=["after", "during"])
async def test_a_retried_slash_command_is_acknowledged_and_carried_out_once(slack, concurrently):
    if concurrently:
        slack.fake.delay = 1.0  # users.info is slow: the first request is still running when the retry comes
    first, again = await twice(slack, slash_body("handoff <@U2|maria> Acme Corp: needs a security review by fri"),
                               signed_headers, concurrently=concurrently)
    assert (first.status, again.status) == (200, 200)
    answers = sorted([(await first.json())["text"], (await again.json())["text"]])
    assert answers[0].startswith("H-1 handed to maria") and "already handled" in answers[1]
    assert await count(slack.bot.db, Handoff) == 1
    assert await count(slack.bot.db, OutboxMessage) == 1  # the offer to maria, once
    slack.fake.delay = 0.0
    assert await settled(slack) == {"conversations.open": 1, "chat.postMessage": 1}
    (offer,) = slack.fake.calls_to("chat.postMessage")
    assert offer.args["channel"] == "DU2" and "H-1" in offer.args["text"]


@pytest.mark.parametrize("concurrently", [False, True], ids=["after", "during"])
async def test_a_known_callers_retried_commit_saves_one_commitment(slack, concurrently):
    """Once the caller's workspace is known, a `commit` is claimed in the statement that saves it
    on PostgreSQL (Store.insert_numbered): a retry, after the first delivery or beside it, still
    saves one commitment and is told it was handled."""
    body = slash_body("commit call Acme by fri")
    assert "C-1 saved" in (await (await slack.post(body, signed_headers(body))).json())["text"]
    first, again = await twice(slack, slash_body("commit send pricing deck to Acme by fri"), signed_headers,
                               concurrently=concurrently)
    assert (first.status, again.status) == (200, 200)
    answers = sorted([(await first.json())["text"], (await again.json())["text"]])
    assert answers[0].startswith("C-2 saved") and "already handled" in answers[1]
    assert await count(slack.bot.db, Commitment) == 2
    assert [a.action for a in await rows(slack.bot.db, ActivityLog)] == ["commitment.created"] * 2


async def test_a_retried_slash_commit_saves_one_commitment(slack):
    first, again = await twice(slack, slash_body("commit send pricing deck to Acme by fri"), signed_headers)
    assert (first.status, again.status) == (200, 200)
    assert "C-1 saved" in (await first.json())["text"] and "already handled" in (await again.json())["text"]
    assert await count(slack.bot.db, Commitment) == 1
    assert [a.action for a in await rows(slack.bot.db, ActivityLog)] == ["commitment.created"]


async def test_a_retried_button_click_is_acknowledged_and_carried_out_once(slack):
    await slack.slash("handoff <@U2|maria> Acme Corp: needs a security review by fri")
    await drained(slack.bot.db)
    (offer,) = slack.fake.calls_to("chat.postMessage")
    before = writes(slack.fake)
    click = click_on(offer, "handoff H-1 accept", user="U2")

    first, again = await twice(slack, click, signed_headers)

    assert (first.status, again.status) == (200, 200)
    (handoff,) = await rows(slack.bot.db, Handoff)
    assert handoff.accepted_at is not None
    assert [a.action for a in await rows(slack.bot.db, ActivityLog)].count("handoff.accepted") == 1
    assert await count(slack.bot.db, OutboxMessage) == 2  # the offer, then "maria accepted H-1" to the sender
    after = await settled(slack)
    assert {m: after[m] - before.get(m, 0) for m in after if after[m] != before.get(m, 0)} == {
        "chat.update": 1, "chat.postMessage": 1, "conversations.open": 1}  # the card updated, the sender told
    told = slack.fake.calls_to("chat.postMessage")[-1]
    assert told.args["channel"] == "DU1" and "maria accepted H-1" in told.args["text"]


async def test_a_retried_form_submission_is_acknowledged_and_carried_out_once(slack):
    await slack.slash("ask <@U2|maria> a price for 40 seats")
    await drained(slack.bot.db)
    (asked,) = slack.fake.calls_to("chat.postMessage")
    assert (await slack.post(click_on(asked, "ask Q-1 answer", user="U2"))).status == 200
    (opened,) = await slack.fake.wait_for("views.open")
    before_rows, before_calls = await snapshot(slack.bot.db), writes(slack.fake)
    submit = view_submission_body(opened.args["view"], {"answer": "approved: net 60 for this order"}, user="U2")

    first, again = await twice(slack, submit, signed_headers)

    assert (first.status, again.status) == (200, 200)
    (ask,) = await rows(slack.bot.db, Ask)
    assert ask.status == "answered" and "net 60" in (ask.answer or "")
    after_rows = await snapshot(slack.bot.db)
    assert after_rows["OutboxMessage"] - before_rows["OutboxMessage"] == 1  # the asker told, once
    assert after_rows["ActivityLog"] - before_rows["ActivityLog"] == 1
    after = await settled(slack)
    # the asker told (outbox) and maria's confirmation (a direct message once the modal closed)
    assert {m: after[m] - before_calls.get(m, 0) for m in after if after[m] != before_calls.get(m, 0)} == {
        "chat.postMessage": 2, "conversations.open": 1}
    posts = slack.fake.calls_to("chat.postMessage")[-2:]
    assert sorted(p.args["channel"] for p in posts) == ["DU1", "DU2"]


@pytest.mark.parametrize("concurrently", [False, True], ids=["after", "during"])
async def test_a_retried_app_home_opened_event_is_acknowledged_and_published_once(slack, concurrently):
    await slack.slash("commit send pricing deck to Acme by fri")
    if concurrently:
        slack.fake.delay = 1.0  # views.publish is slow: the first event is still being handled
    opened = event_body({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "DU1"}, "Ev0001")

    first, again = await twice(slack, opened, json_headers, concurrently=concurrently)

    assert (first.status, again.status) == (200, 200)
    slack.fake.delay = 0.0
    assert (await settled(slack)).get("views.publish") == 1
    (published,) = slack.fake.calls_to("views.publish")
    assert published.args["user_id"] == "U1" and "send pricing deck" in json.dumps(published.args["view"])
