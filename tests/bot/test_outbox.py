"""The outbox sender against the fake Slack API: throttling, errors, exactly once."""
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.deliver import SlackDeliverer
from bot.outbox import OutboxSender
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from tests.conftest import Chat
from tests.helpers import outbox

# A request already on its way when the 429 came back may still reach the fake just after it.
GRACE = 0.25


def assert_quiet_while_told_to_wait(fake, throttled, retry_after: float) -> None:
    """Between each 429 (past the grace for requests already in flight) and the end of its
    Retry-After, Slack heard nothing from us."""
    for refusal in throttled:
        during = [c for c in fake.calls if refusal.at + GRACE <= c.at < refusal.at + retry_after]
        assert during == [], f"{len(during)} call(s) within {retry_after}s of a 429: {during}"


@pytest.fixture
def slack_chat(db, settings, clock):
    return Chat(Dispatcher(db, settings, default_registry(), clock), platform="slack", workspace="T1")


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


async def test_stopping_the_sender_lets_the_send_in_progress_finish(slack_chat, sender, fake_slack, db):
    """A console that quits stops its sender: a message leased by the running loop is still
    delivered, not cut off and left to wait out its lease."""
    import asyncio

    await _offer_handoffs(slack_chat, ["U2"])
    fake_slack.delay = 0.3  # the send is in flight when stop() comes
    task = asyncio.create_task(sender.run_forever())
    await fake_slack.wait_until(lambda: [m for m in fake_slack.arrivals if m == "chat.postMessage"], 1, 5,
                                "chat.postMessage arriving")
    sender.stop()
    await asyncio.wait_for(task, 5)
    assert {m.status for m in await outbox(db)} == {"sent"}
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


@pytest.mark.throttling
async def test_a_429_is_waited_out_as_told_without_hammering(slack_chat, sender, fake_slack, db):
    """Retry-After is real seconds: drain() (what `partnerbot tick` runs) waits them out, even on
    a fixed business clock, and sends nothing to Slack meanwhile."""
    await _offer_handoffs(slack_chat, ["U2", "U3", "U4"])
    fake_slack.throttle_posts(1, retry_after=2)
    assert await sender.drain() == 3
    (throttled,) = fake_slack.throttled_posts()
    assert_quiet_while_told_to_wait(fake_slack, [throttled], 2)
    assert sorted(c.args["channel"] for c in fake_slack.posts()) == ["DU2", "DU3", "DU4"]  # each once
    assert all(m.attempts == 1 and m.status == "sent" for m in await outbox(db))  # a 429 is not a failed attempt


@pytest.mark.throttling
async def test_each_429_in_a_row_pauses_again(slack_chat, db, clock, fake_slack):
    await _offer_handoffs(slack_chat, ["U2", "U3"])
    one_at_a_time = OutboxSender(db, [SlackDeliverer(AsyncWebClient(token="x", base_url=fake_slack.url))], clock,
                                 concurrency=1)
    fake_slack.throttle_posts(3, retry_after=1)
    assert await one_at_a_time.drain() == 2
    throttled = fake_slack.throttled_posts()
    assert [c.args["channel"] for c in throttled] == ["DU2"] * 3  # the first in line, tried again each time
    assert_quiet_while_told_to_wait(fake_slack, throttled, 1)
    assert [c.args["channel"] for c in fake_slack.posts()] == ["DU2", "DU3"]
    assert all(m.attempts == 1 for m in await outbox(db))


@pytest.mark.throttling
async def test_a_throttled_platform_is_probed_with_one_request_before_sending_at_full_width(
        slack_chat, db, clock, fake_slack):
    """Eight sends in flight meet the throttle together; after the pause only one request goes
    out until Slack lets one through, however long the throttling lasts."""
    await _offer_handoffs(slack_chat, [f"U{i}" for i in range(2, 22)])
    sender = OutboxSender(db, [SlackDeliverer(AsyncWebClient(token="x", base_url=fake_slack.url))], clock)
    fake_slack.throttle_posts_for(2.5, retry_after=1)
    assert await sender.drain() == 20
    throttled = fake_slack.throttled_posts()
    first_wave = [c for c in throttled if c.at < throttled[0].at + GRACE]
    probes = throttled[len(first_wave):]
    assert len(first_wave) <= sender.concurrency and 1 <= len(probes) <= 3
    assert_quiet_while_told_to_wait(fake_slack, [first_wave[0], *probes], 1)
    assert len(fake_slack.posts()) == 20 and fake_slack.duplicate_posts() == {}


@pytest.mark.throttling
async def test_a_throttled_workspace_waits_alone_while_the_other_workspace_sends(db, settings, clock, fake_slack):
    """Slack's limits are per app per workspace: a 429 storm in T2 pauses only T2's messages
    (quiet during each Retry-After, then one probe at a time); T1's all go out meanwhile, though
    T2's were owed first and fill more than one batch."""
    dispatcher = Dispatcher(db, settings, default_registry(), clock)
    t1, t2 = Chat(dispatcher, platform="slack", workspace="T1"), Chat(dispatcher, platform="slack", workspace="T2")
    t2_users = [f"W{i}" for i in range(2, 12)]
    await _offer_handoffs(t2, t2_users)  # T2's first in line
    await _offer_handoffs(t1, [f"U{i}" for i in range(2, 10)])
    t2_channels = {f"D{user}" for user in t2_users}
    sender = OutboxSender(db, [SlackDeliverer(AsyncWebClient(token="x", base_url=fake_slack.url))], clock,
                          batch_size=4)
    fake_slack.throttle_posts_to(t2_channels, 2.5, retry_after=1)
    assert await sender.drain() == 18

    posts = fake_slack.posts()
    assert len(posts) == 18 and fake_slack.duplicate_posts() == {}  # every message once
    to_t2 = [c for c in posts if c.args["channel"] in t2_channels]
    to_t1 = [c for c in posts if c.args["channel"] not in t2_channels]
    throttled = fake_slack.throttled_posts()
    assert throttled and all(c.args["channel"] in t2_channels for c in throttled)  # T1 was never refused
    assert len(to_t1) == 8 and max(c.at for c in to_t1) < throttled[0].at + 1  # all within T2's first pause
    assert len(to_t2) == 10 and min(c.at for c in to_t2) >= throttled[0].at + 2.5 - GRACE  # T2's after its storm

    def t2_calls(calls):
        return [c for c in calls if c.args.get("channel") in t2_channels or c.args.get("users") in t2_users]
    first_wave = [c for c in throttled if c.at < throttled[0].at + GRACE]
    probes = throttled[len(first_wave):]
    assert len(first_wave) <= sender.concurrency and 1 <= len(probes) <= 3  # one request per probe
    for refusal in [first_wave[0], *probes]:  # T2 heard nothing from us while told to wait
        during = [c for c in t2_calls(fake_slack.calls) if refusal.at + GRACE <= c.at < refusal.at + 1]
        assert during == [], f"{len(during)} call(s) to T2 within 1s of a 429: {during}"
    assert all(m.status == "sent" and m.attempts == 1 for m in await outbox(db))  # a 429 is not a failed attempt


@pytest.mark.throttling
async def test_a_rate_limited_fan_out_is_delivered_once_with_few_refusals(slack_chat, sender, fake_slack, db):
    await _offer_handoffs(slack_chat, [f"U{i}" for i in range(2, 52)])
    fake_slack.rate_per_second = 20
    assert await sender.drain() == 50
    assert len(fake_slack.posts()) == 50 and fake_slack.duplicate_posts() == {}
    assert len(fake_slack.throttled_posts()) < 50 // 2  # waits as told rather than hammering
    assert {m.status for m in await outbox(db)} == {"sent"}


@pytest.mark.throttling
async def test_messages_to_one_conversation_leave_a_second_apart_in_order_without_holding_up_others(
        slack_chat, sender, fake_slack, db):
    for n in range(3):  # three handoffs to U2 (one DM channel) among handoffs to eight others
        await _offer_handoffs(slack_chat, ["U2", *(f"U{10 + 3 * n + k}" for k in range(3))])
    assert await sender.drain() == 12
    to_u2 = [c for c in fake_slack.posts() if c.args["channel"] == "DU2"]
    assert [h for c in to_u2 for h in ("H-1", "H-5", "H-9") if h in c.args["text"]] == ["H-1", "H-5", "H-9"]
    assert all(b.at - a.at >= 0.9 for a, b in zip(to_u2, to_u2[1:]))
    others = [c for c in fake_slack.posts() if c.args["channel"] != "DU2"]
    assert len(others) == 9 and max(c.at for c in others) < to_u2[-1].at  # not paced behind U2


@pytest.mark.throttling
async def test_a_message_throttled_every_time_steps_aside_for_the_others(slack_chat, db, clock, fake_slack):
    """It cannot hold the platform up for ever: max_attempts throttles in a row count one failed
    attempt and put it back in line with the usual backoff; the next message goes."""
    await _offer_handoffs(slack_chat, ["U2", "U3"])
    sender = OutboxSender(db, [SlackDeliverer(AsyncWebClient(token="x", base_url=fake_slack.url))], clock,
                          concurrency=1, max_attempts=3)
    fake_slack.throttle_posts(3, retry_after=0)
    assert await sender.drain() == 1
    assert [c.args["channel"] for c in fake_slack.posts()] == ["DU3"]
    stuck, sent = await outbox(db)
    assert (stuck.status, stuck.attempts, sent.status) == ("pending", 1, "sent")
    assert "throttled 3 times in a row" in stuck.last_error
    assert stuck.next_attempt_at == clock.now + timedelta(seconds=2)
    clock.now += timedelta(seconds=2)
    assert await sender.drain() == 1


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


@pytest.fixture
def teams_sender(db, clock):
    from adapters.teams.app import TeamsAdapter

    adapter = TeamsAdapter(app_id="", password="", tenant_id="", app_type="MultiTenant",
                           dispatch=None, remember_contact=None, service_url_hosts=["127.0.0.1"])
    return OutboxSender(db, [adapter.deliverer], clock, max_attempts=5)


async def _teams_offer(db, settings, clock, connector) -> Chat:
    from adapters.teams import translate
    from tests.fakes.teams_connector import message, person

    chat = Chat(Dispatcher(db, settings, default_registry(), clock), platform="teams", workspace="tenant-1")
    maria = message("help", sender=person("aad-maria", "Maria"), service_url=connector.url)
    await chat.dispatcher.dispatch(translate.from_activity(maria))
    assert (await chat.say("aad-ana", "handoff <@aad-maria|Maria> Acme: needs a review")).ok
    return chat


@pytest.mark.throttling
@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_teams_throttling_and_gateway_errors_wait_as_told_and_are_not_failures(
        db, settings, clock, connector, teams_sender, status):
    await _teams_offer(db, settings, clock, connector)
    connector.fail_next = [(status, {"Retry-After": "1"})]
    assert await teams_sender.drain() == 1
    (refused,) = connector.refused
    (offer,) = connector.to("a:personal-aad-maria")
    assert refused.status == status and offer.at - refused.at >= 1.0  # Retry-After, not the generic 2 s
    (message,) = await outbox(db)
    assert (message.status, message.attempts) == ("sent", 1)


async def test_a_contact_arriving_while_a_send_is_parked_is_not_lost(db, settings, clock, connector, teams_sender):
    from adapters.teams import translate
    from tests.fakes.teams_connector import message, person

    chat = Chat(Dispatcher(db, settings, default_registry(), clock), platform="teams", workspace="tenant-1")
    await chat.say("aad-ana", "handoff <@aad-maria|Maria> Acme: needs a review")
    assert await teams_sender.drain() == 0  # Maria never talked to the bot: parked for a day
    (parked,) = await outbox(db)
    assert parked.next_attempt_at == clock.now + timedelta(days=1)
    maria = message("help", sender=person("aad-maria", "Maria"), service_url=connector.url)
    await chat.dispatcher.dispatch(translate.from_activity(maria))  # her first contact releases it
    assert await teams_sender.drain() == 1
    assert "handed you H-1" in connector.to("a:personal-aad-maria")[0].fallback


async def test_someone_last_seen_in_a_channel_gets_a_new_one_to_one_chat(db, settings, clock, connector, teams_sender):
    from adapters.teams import translate
    from tests.fakes.teams_connector import message, person

    chat = Chat(Dispatcher(db, settings, default_registry(), clock), platform="teams", workspace="tenant-1")
    in_channel = message("help", sender=person("aad-maria", "Maria"), service_url=connector.url, channel=True)
    await chat.dispatcher.dispatch(translate.from_activity(in_channel))
    await chat.say("aad-ana", "handoff <@aad-maria|Maria> Acme: needs a review")
    assert await teams_sender.drain() == 1
    (created,) = connector.created
    assert created["members"][0]["id"] == "29:aad-maria" and created["isGroup"] is False
    (offer,) = connector.to("a:personal-29:aad-maria")
    assert "handed you H-1" in offer.fallback
    assert connector.to("19:channel@thread.tacv2") == []  # never into the channel


async def test_a_channel_message_goes_into_the_channel_seen_last(db, settings, clock, connector, teams_sender):
    from adapters.teams import translate
    from storage.store import Store
    from tests.fakes.teams_connector import message, person

    dispatcher = Dispatcher(db, settings, default_registry(), clock)
    in_channel = message("help", sender=person("aad-ana", "Ana"), service_url=connector.url, channel=True)
    await dispatcher.dispatch(translate.from_activity(in_channel))
    async with db.session() as s:
        store = Store(s)
        ws = await store.workspace("teams", "tenant-1", clock.now)
        await store.enqueue(workspace_id=ws.id, key="digest:1/P-1:w48:channel", platform="teams",
                            channel="19:channel@thread.tacv2", payload={"text": "Weekly digest"}, now=clock.now)
    assert await teams_sender.drain() == 1
    posts = [p for p in connector.to("19:channel@thread.tacv2") if p.fallback == "Weekly digest"]
    assert len(posts) == 1 and connector.created == []
