"""The platforms throttle us. Messages are owed through the real handlers, then a real
`partnerbot tick` process sends them to the fake Slack Web API or the fake Teams connector,
which say "slow down" the way Slack and Teams do: every message arrives once, in order per
conversation, and the sender waits as long as it is told instead of hammering.
"""
from __future__ import annotations

import asyncio
import re

import pytest

from adapters.teams import translate as teams_translate
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from storage.store import Store
from tests.conftest import FIXED_NOW, Chat
from tests.fakes.slack_requests import SIGNING_SECRET
from tests.fakes.teams_connector import message, person
from tests.helpers import outbox
from tests.spawn import clean_env, start

pytestmark = [pytest.mark.process, pytest.mark.throttling]

# A request already on its way when a 429 came back may still reach the fake just after it.
GRACE = 0.25


async def tick(cwd, env: dict[str, str]) -> tuple[int, str]:
    """`partnerbot tick --now …` as a process: how many messages it says it sent, and its output."""
    process = await start("tick", "--now", FIXED_NOW.isoformat(), cwd=cwd, env=env)
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    output = out.decode(errors="replace")
    assert process.returncode == 0, output
    return int(re.search(r"(\d+) message\(s\) sent", output).group(1)), output


def slack_env(db_url: str, fake_slack) -> dict[str, str]:
    return clean_env(DATABASE_URL=db_url, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                     SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake_slack.url)


async def hand_off(chat: Chat, receivers: list[str]) -> None:
    for user in receivers:
        assert (await chat.say("U1", f"handoff <@{user}> Acme: needs a review")).ok


def handoff_numbers(calls) -> list[str]:
    return [re.search(r"H-\d+", c.args["text"]).group(0) for c in calls]


async def test_a_tick_owing_30_messages_survives_a_stretch_of_429s_and_waits_as_told(
        tmp_path, db, db_url, settings, clock, fake_slack):
    receivers = [f"U{i}" for i in range(2, 32)]
    await hand_off(Chat(Dispatcher(db, settings, default_registry(), clock), platform="slack", workspace="T1"), receivers)
    fake_slack.throttle_posts(5, retry_after=2)

    sent, output = await tick(tmp_path, slack_env(db_url, fake_slack))

    assert sent == 30, output
    assert sorted(c.args["channel"] for c in fake_slack.posts()) == sorted(f"D{u}" for u in receivers)
    assert fake_slack.duplicate_posts() == {}
    throttled = fake_slack.throttled_posts()
    assert len(throttled) == 5 and "slack throttled us; waiting 2.0s (as told)" in output
    for refusal in throttled:  # nothing reached Slack while it had said to wait
        during = [c for c in fake_slack.calls if refusal.at + GRACE <= c.at < refusal.at + 2]
        assert during == [], output
    assert {(m.status, m.attempts) for m in await outbox(db)} == {("sent", 1)}  # a 429 is no failed attempt


@pytest.mark.parametrize("pace", [None, 1.5], ids=["a second by default", "1.5 s when set"])
async def test_one_conversation_is_paced_a_second_a_message_while_the_others_go_at_once(
        tmp_path, db, db_url, settings, clock, fake_slack, pace):
    chat = Chat(Dispatcher(db, settings, default_registry(), clock), platform="slack", workspace="T1")
    for n in range(4):  # four handoffs to U2 (one DM channel), among handoffs to twelve others
        await hand_off(chat, ["U2", *(f"U{10 + 3 * n + k}" for k in range(3))])
    async with db.session() as s:  # a digest and a celebration for one bound channel
        store = Store(s)
        workspace = await store.workspace("slack", "T1", clock())
        for key, text in (("digest:P-1:w48:C1", "Weekly digest P-1"), ("win:W-1:C1", "Celebrate W-1")):
            await store.enqueue(workspace_id=workspace.id, key=key, platform="slack", channel="C1",
                                payload={"text": text}, now=clock())

    env = slack_env(db_url, fake_slack)
    if pace is not None:
        env["PARTNERBOT_OUTBOX__SLACK_CHANNEL_SECONDS"] = str(pace)
    sent, output = await tick(tmp_path, env)

    assert sent == 18, output
    assert fake_slack.duplicate_posts() == {}
    to_u2 = [c for c in fake_slack.posts() if c.args["channel"] == "DU2"]
    in_c1 = [c for c in fake_slack.posts() if c.args["channel"] == "C1"]
    assert handoff_numbers(to_u2) == ["H-1", "H-5", "H-9", "H-13"]  # in the order they were owed
    assert [c.args["text"] for c in in_c1] == ["Weekly digest P-1", "Celebrate W-1"]
    for paced in (to_u2, in_c1):
        gaps = [b.at - a.at for a, b in zip(paced, paced[1:])]
        assert all(gap >= 0.9 * (pace or 1.0) for gap in gaps), gaps
    others = [c for c in fake_slack.posts() if c.args["channel"] not in ("DU2", "C1")]
    assert len(others) == 12 and max(c.at for c in others) < to_u2[-1].at  # not queued behind U2


async def test_teams_backs_off_on_412_502_504_and_waits_as_told_on_429(tmp_path, db, db_url, settings, clock, connector):
    chat = Chat(Dispatcher(db, settings, default_registry(), clock), platform="teams", workspace="tenant-1")
    first_contact = message("help", sender=person("aad-maria", "Maria"), service_url=connector.url)
    await chat.dispatcher.dispatch(teams_translate.from_activity(first_contact))
    for account in ("Acme", "Globex", "Initech"):
        assert (await chat.say("aad-ana", f"handoff <@aad-maria|Maria> {account}: needs a review")).ok
    connector.fail_next = [(412, {}), (502, {}), (504, {}), (429, {"Retry-After": "1"})]

    sent, output = await tick(tmp_path, clean_env(DATABASE_URL=db_url, PARTNERBOT_TEAMS__SERVICE_URL_HOSTS="127.0.0.1"))

    assert sent == 3, output
    delivered = connector.to("a:personal-aad-maria")
    assert [re.search(r"H-\d+", p.fallback).group(0) for p in delivered] == ["H-1", "H-2", "H-3"]  # each once, in order
    refused = connector.refused
    assert [r.status for r in refused] == [412, 502, 504, 429]
    tries = [r.at for r in refused] + [delivered[0].at]
    gaps = [b - a for a, b in zip(tries, tries[1:])]
    # no Retry-After: exponential with jitter (0.5–1 s, 1–2 s, 2–4 s); then the 1 s Teams asked for
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0 and gaps[2] >= 2.0 and gaps[3] >= 1.0, gaps
    assert gaps[2] > gaps[0], gaps
    assert {(m.status, m.attempts) for m in await outbox(db)} == {("sent", 1)}  # none counted as a failure
