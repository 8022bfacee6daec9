"""The outbox sender against the fake Slack API: throttling, errors, exactly once."""
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.deliver import SlackDeliverer
from bot.outbox import OutboxSender
from handlers.dispatch import Dispatcher
from tests.conftest import Chat
from tests.fakes.slack_api import FakeSlackApi
from tests.helpers import outbox


@pytest.fixture
async def fake_slack():
    fake = await FakeSlackApi().start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack_chat(db, settings, clock):
    return Chat(Dispatcher(db, settings, clock), platform="slack", workspace="T1")


@pytest.fixture
def sender(db, clock, fake_slack):
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    return OutboxSender(db, [SlackDeliverer(client)], clock, max_attempts=3)


async def _offer_handoffs(chat: Chat, receivers: list[str]) -> None:
    for user in receivers:
        assert (await chat.say("U1", f"handoff <@{user}> Acme: needs a review")).ok


async def test_every_owed_message_is_sent_once_and_marked_sent(slack_chat, sender, fake_slack, db):
    await _offer_handoffs(slack_chat, ["U2", "U3", "U4"])
    assert await sender.drain() == 3
    assert await sender.drain() == 0
    assert sorted(c.args["channel"] for c in fake_slack.calls_to("chat.postMessage")) == ["DU2", "DU3", "DU4"]
    assert {m.status for m in await outbox(db)} == {"sent"}


async def test_a_429_is_waited_out_as_told_without_hammering(slack_chat, sender, fake_slack, clock, db):
    await _offer_handoffs(slack_chat, ["U2", "U3", "U4"])
    fake_slack.throttle_remaining, fake_slack.retry_after = 1, 30
    assert await sender.drain() == 0
    assert len(fake_slack.calls) == 1  # the throttled call, then silence
    clock.now += timedelta(seconds=20)
    assert await sender.drain() == 0
    assert len(fake_slack.calls) == 1  # still waiting: 30 s were asked for
    clock.now += timedelta(seconds=11)
    assert await sender.drain() == 3
    posts = fake_slack.calls_to("chat.postMessage")
    assert sorted(c.args["channel"] for c in posts) == ["DU2", "DU3", "DU4"]  # each once
    assert all(m.attempts == 1 for m in await outbox(db))  # a 429 is not a failed attempt


async def test_errors_back_off_and_then_succeed(slack_chat, sender, fake_slack, clock, db):
    await _offer_handoffs(slack_chat, ["U2"])
    fake_slack.fail_next = [(500, "internal_error")]
    assert await sender.drain() == 0
    (message,) = await outbox(db)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == clock.now + timedelta(seconds=2)
    clock.now += timedelta(seconds=1)
    assert await sender.drain() == 0  # not yet
    clock.now += timedelta(seconds=2)
    assert await sender.drain() == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_message_is_parked_as_failed_after_max_attempts(slack_chat, sender, fake_slack, clock, db):
    await _offer_handoffs(slack_chat, ["U2"])
    fake_slack.fail_next = [(500, "internal_error")] * 3
    for _ in range(3):
        await sender.drain()
        clock.now += timedelta(minutes=10)
    (message,) = await outbox(db)
    assert (message.status, message.attempts) == ("failed", 3)
    assert "internal_error" in message.last_error
    assert await sender.drain() == 0


async def test_a_permanent_refusal_is_not_retried(slack_chat, sender, fake_slack, clock, db):
    await _offer_handoffs(slack_chat, ["U2"])
    fake_slack.fail_next = [(200, "user_not_found")]
    assert await sender.drain() == 0
    (message,) = await outbox(db)
    assert message.status == "failed" and message.last_error == "user_not_found"
    clock.now += timedelta(hours=1)
    await sender.drain()
    assert len(fake_slack.calls) == 1


async def test_two_senders_never_send_the_same_message(slack_chat, db, clock, fake_slack):
    import asyncio

    await _offer_handoffs(slack_chat, [f"U{i}" for i in range(2, 12)])
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    senders = [OutboxSender(db, [SlackDeliverer(client)], clock, batch_size=3) for _ in range(2)]
    sent = await asyncio.gather(*(s.drain() for s in senders))
    assert sum(sent) == 10
    channels = [c.args["channel"] for c in fake_slack.calls_to("chat.postMessage")]
    assert len(channels) == len(set(channels)) == 10
