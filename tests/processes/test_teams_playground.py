"""Teams end to end with Microsoft's own Teams emulator, the Microsoft 365 Agents Playground
(tests/fakes/playground.py), as the client of a real `partnerbot serve`.

Why: our fake connector sends what we believe Teams sends. The Playground sends what Microsoft's
emulator sends, and there a mention is `{id: "29:…", name}` without an AAD object id, while the
person's own messages carry their `aadObjectId`: a person mentioned before they first wrote was
a second, unreachable person, and the handoff waited for them forever. Each person is their own
Playground (it sends as its current user only); every message is read where the person reads it,
on their Playground's WebSocket. Skipped, saying why, without node or the npm package (.ci/run
installs it).
"""
from __future__ import annotations

import asyncio

import pytest

from tests.fakes.playground import BOT, CHANNEL, PEOPLE, Playground, unavailable
from tests.spawn import clean_env, serve, stop

WHY_NOT = unavailable()
pytestmark = [pytest.mark.process, pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")]

ANA, BOB = PEOPLE[0], PEOPLE[1]


@pytest.fixture
async def endpoint(tmp_path, db_url):
    """A `partnerbot serve` taking unauthenticated Teams activities on loopback, replying to the
    Playgrounds' connectors (`http://localhost:PORT/_connector`); its /api/messages URL."""
    env = clean_env(DATABASE_URL=db_url, PARTNERBOT_TEAMS__UNAUTHENTICATED="1",
                    PARTNERBOT_TEAMS__SERVICE_URL_HOSTS="localhost,127.0.0.1")
    process, url, _ = await serve(tmp_path, env)
    output: list[str] = []

    async def drain():  # read what it prints, so that a full pipe never blocks it
        while line := await process.stdout.readline():
            output.append(line.decode(errors="replace"))

    reader = asyncio.create_task(drain())
    try:
        yield f"{url}/api/messages"
    finally:
        await stop(process)
        await reader
    assert "Traceback" not in "".join(output), "".join(output)


@pytest.fixture
async def ana(tmp_path, endpoint):
    async with Playground(ANA, tmp_path / "ana", endpoint) as playground:
        yield playground


async def test_a_commitment_typed_in_a_personal_chat_is_answered_with_a_card_and_kept_from_its_button(ana):
    chat = await ana.say(ana.personal, "commit send deck by friday")
    saved = await ana.shows(chat, "C-1 saved: send deck")
    assert saved.card["type"] == "AdaptiveCard" and "C-1" in saved.card["body"][0]["text"]

    # the scorecard has a Done button per open commitment; a click is an Action.Submit
    await ana.say(chat, "report")
    scorecard = await ana.shows(chat, "Scorecard of Ana Lopez")
    assert scorecard.buttons == {"Done": {"command": "done C-1"}}
    await ana.click(scorecard, "Done")
    kept = await ana.shows(chat, "C-1 kept (on time): send deck", action="updateMessage", message_id=scorecard.id)
    submit = await ana.sent_activity(lambda a: a.get("replyToId") == scorecard.id, "the click")
    assert submit["value"] == {"command": "done C-1"} and "text" not in submit

    await ana.say(chat, "list")
    assert (await ana.shows(chat, "Your open items", after=kept)).fallback == "Your open items: nothing open."


async def test_a_person_mentioned_in_a_channel_before_they_ever_wrote_gets_the_handoff_when_they_do(
        ana, tmp_path, endpoint):
    post = await ana.say(CHANNEL, f"<at>{BOT.name}</at> handoff <at>{BOB.name}</at> Acme: needs a security review by friday")
    await ana.shows(post, "H-1 handed to Bob Chen: Acme — needs a security review")
    # what makes this hard: the mention names Bob by his Teams id only, no AAD object id
    sent = await ana.sent_activity(lambda a: "handoff" in a.get("text", ""), "the handoff")
    assert [e["mentioned"] for e in sent["entities"] if e["type"] == "mention"] == [
        {"id": BOT.id, "name": BOT.name}, {"id": BOB.id, "name": BOB.name}]
    assert sent["from"] == {"id": ANA.id, "name": ANA.name, "aadObjectId": ANA.aad}

    async with Playground(BOB, tmp_path / "bob", endpoint) as bob:
        chat = await bob.say(bob.personal, "list")  # his first word to the bot, with his aadObjectId
        assert "H-1" in (await bob.shows(chat, "Your open items")).fallback
        card = await bob.shows(chat, "Ana Lopez handed you H-1")  # sent as soon as he could be reached
        assert card.buttons == {"Accept": {"command": "handoff H-1 accept"},
                                "Decline": {"command": "handoff H-1 decline"}}

        await bob.click(card, "Accept")
        accepted = await bob.shows(chat, "You accepted H-1", action="updateMessage", message_id=card.id)
        # Ana was last seen in the channel: the bot opens a 1:1 conversation with her, which is
        # (as in Teams) her one personal chat with the bot
        await ana.shows(ana.personal, "Bob Chen accepted H-1")

        await bob.say(chat, "list")
        listed = await bob.shows(chat, "Your open items", after=accepted)
        assert "H-1 · Acme: needs a security review · identified · Ana Lopez → Bob Chen" in listed.fallback
        assert "not accepted yet" not in listed.fallback
