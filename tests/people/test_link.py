"""link: one person on Slack and Teams, so their commitments are one."""
import re
from datetime import timedelta

import pytest

from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from storage.models import Commitment, Identity, Person
from tests.conftest import Chat
from tests.helpers import assert_refused_without_change, rows


@pytest.fixture
def slack_and_teams(db, settings, clock):
    dispatcher = Dispatcher(db, settings, default_registry(), clock)
    return Chat(dispatcher, platform="slack", workspace="T1"), Chat(dispatcher, platform="teams", workspace="tenant-1")


def _code(reply) -> str:
    return re.search(r"link code is (\w+)", reply.text).group(1)


async def test_link_joins_two_identities_and_their_commitments(slack_and_teams, db):
    slack, teams = slack_and_teams
    await slack.say("U1", "commit slack thing by fri")
    await teams.say("aad-ana", "commit teams thing by tomorrow")
    code = _code(await teams.say("aad-ana", "link"))
    reply = await slack.say("U1", f"link {code.lower()}")
    assert reply.ok and "one person" in reply.text and "slack and teams" in reply.text
    (person,) = await rows(db, Person)
    assert {i.person_id for i in await rows(db, Identity)} == {person.id}
    assert {c.owner_id for c in await rows(db, Commitment)} == {person.id}
    listed = (await slack.say("U1", "list")).text
    assert "C-1 · slack thing" in listed and "C-1 (on Teams) · teams thing" in listed
    assert "C-1 (on Slack) · slack thing" in (await teams.say("aad-ana", "list mine")).text


@pytest.mark.parametrize("setup, command, reason", [
    (None, "link NOPE1234", "not a valid link code"),
    ("expired", "link {code}", "not a valid link code"),
    ("same-platform", "link {code}", "made on slack too"),
    ("own", "link {code}", "That code is yours"),
    ("used", "link {code}", "not a valid link code"),
])
async def test_bad_link_codes_are_refused(slack_and_teams, db, clock, setup, command, reason):
    slack, teams = slack_and_teams
    await teams.say("aad-ana", "help")
    issuer, user = (slack, "U2") if setup == "same-platform" else (teams, "aad-ana")
    code = _code(await issuer.say(user, "link"))
    if setup == "expired":
        clock.now += timedelta(minutes=11)
    if setup == "used":
        await slack.say("U1", f"link {code}")
        await teams.say("aad-bob", "help")
        caller_chat, caller = teams, "aad-bob"
    elif setup == "own":
        caller_chat, caller = teams, "aad-ana"
    else:
        caller_chat, caller = slack, "U1"
    await caller_chat.say(caller, "help")  # the caller exists before the refusal is measured
    await assert_refused_without_change(caller_chat, db, caller, command.format(code=code), reason)
