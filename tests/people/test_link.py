"""link: one person on Slack and Teams, so their commitments are one; only the code's issuer
joins them (`link confirm`); `unlink` splits them again; wrong codes are limited."""
import re
from datetime import timedelta

import pytest

from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from handlers.kernel.model import Reply
from storage.models import Commitment, Identity, LinkAttempt, LinkCode, LinkRequest, Person, PersonLink
from tests.conftest import Chat
from tests.helpers import assert_refused_without_change, count, outbox, rows, snapshot


@pytest.fixture
def slack_and_teams(db, settings, clock):
    dispatcher = Dispatcher(db, settings, default_registry(), clock)
    return Chat(dispatcher, platform="slack", workspace="T1"), Chat(dispatcher, platform="teams", workspace="tenant-1")


def _code(reply) -> str:
    return re.search(r"link code is (\w+)", reply.text).group(1)


async def _owed(db, kind: str) -> list[Reply]:
    """The messages of one kind the bot owes, oldest first, as the recipient will get them."""
    return [Reply.from_dict(m.payload) for m in await outbox(db) if m.idempotency_key.startswith(kind + ":")]


async def _request(slack, teams, db) -> tuple[Reply, Reply]:
    """Ana issues a code on Teams and types it on Slack: the reply there, and her Teams prompt."""
    code = _code(await teams.say("aad-ana", "link"))
    asked = await slack.say("U1", f"link {code.lower()}")
    prompt = (await _owed(db, "link.request"))[-1]
    return asked, prompt


async def _link(slack, teams, db) -> Reply:
    """Ana (Teams) links her Slack identity and confirms it from the Teams prompt's button."""
    _, prompt = await _request(slack, teams, db)
    return await teams.say("aad-ana", prompt.cards[0].buttons[0].command, from_button=True)


async def _people(db) -> int:
    return await count(db, Person)


# --- link: asked, confirmed, joined ----------------------------------------------------------
async def test_link_asks_the_issuer_and_joins_two_identities_and_their_commitments_once_confirmed(slack_and_teams, db):
    slack, teams = slack_and_teams
    await slack.say("U1", "commit slack thing by fri")
    await teams.say("aad-ana", "commit teams thing by tomorrow")

    asked, prompt = await _request(slack, teams, db)
    assert asked.ok and "I've asked aad-ana on Teams to confirm" in asked.text and "nothing is joined" in asked.text
    assert "Linked" not in asked.text
    assert await _people(db) == 2 and "teams thing" not in (await slack.say("U1", "list")).text  # nothing joined yet
    # Ana's Teams chat: who asks, from which platform and workspace, with Confirm / Reject
    assert "U1 (Slack, workspace T1) typed your link code and wants to join your identity" in prompt.text
    (card,) = prompt.cards
    (request,) = await rows(db, LinkRequest)
    assert [(b.label, b.command) for b in card.buttons] == [("Confirm", f"link confirm {request.id}"),
                                                            ("Reject", f"link reject {request.id}")]
    (to,) = [m for m in await outbox(db) if m.idempotency_key.startswith("link.request:")]
    assert to.platform == "teams"

    reply = await teams.say("aad-ana", f"link confirm {request.id}", from_button=True)
    assert reply.ok and reply.replace_source and "one person" in reply.text and "Slack and Teams" in reply.text
    (person,) = await rows(db, Person)
    assert {i.person_id for i in await rows(db, Identity)} == {person.id}
    assert {c.owner_id for c in await rows(db, Commitment)} == {person.id}
    assert await rows(db, LinkRequest) == []
    listed = (await slack.say("U1", "list")).text
    assert "C-1 · slack thing" in listed and "C-1 (on Teams) · teams thing" in listed
    assert "C-1 (on Slack) · slack thing" in (await teams.say("aad-ana", "list mine")).text
    # the requester is told, on Slack where they asked
    (told,) = [m for m in await outbox(db) if m.idempotency_key.startswith("link.confirmed:")]
    assert told.platform == "slack" and "aad-ana confirmed your link request. Linked: you are now one person" in \
        told.payload["text"]


async def test_typing_link_confirm_alone_answers_the_one_request_waiting(slack_and_teams, db):
    slack, teams = slack_and_teams
    await _request(slack, teams, db)
    assert "one person" in (await teams.say("aad-ana", "link confirm")).text
    assert await _people(db) == 1


async def test_the_issuer_rejects_nothing_is_joined_and_the_requester_is_told(slack_and_teams, db):
    slack, teams = slack_and_teams
    await _request(slack, teams, db)
    (request,) = await rows(db, LinkRequest)
    reply = await teams.say("aad-ana", f"link reject {request.id}")
    assert reply.ok and "Rejected: nothing was joined" in reply.text and "U1 on Slack has been told" in reply.text
    assert await _people(db) == 2 and await rows(db, LinkRequest) == []
    (told,) = await _owed(db, "link.rejected")
    assert "aad-ana rejected your link request: nothing was joined." in told.text
    refused = await teams.say("aad-ana", f"link confirm {request.id}")  # answered: the button does nothing more
    assert not refused.ok and await _people(db) == 2
    await _request(slack, teams, db)  # asked again: a new number, and the old button still does nothing
    (again,) = await rows(db, LinkRequest)
    assert again.id != request.id
    assert not (await teams.say("aad-ana", f"link confirm {request.id}")).ok and await _people(db) == 2


@pytest.mark.parametrize("who, command, reason", [
    ("requester", "link confirm {n}", "is yours: only whoever issued the code can confirm it"),
    ("requester", "link reject {n}", "is yours: only whoever issued the code can reject it"),
    ("stranger on slack", "link confirm {n}", "There is no link request {n} waiting for your answer"),
    ("stranger on teams", "link confirm {n}", "There is no link request {n} waiting for your answer"),
    ("stranger on teams", "link confirm", "No link request is waiting for your answer"),
    ("issuer", "link confirm {other}", "There is no link request {other} waiting for your answer"),
    ("issuer", "link confirm abc", "'abc' is not a link request number"),
    ("issuer", "link confirm ²", "'²' is not a link request number"),
    ("issuer", "link confirm 99999999999999999999", "There is no link request 99999999999999999999"),
])
async def test_only_the_issuer_answers_a_link_request(slack_and_teams, db, who, command, reason):
    slack, teams = slack_and_teams
    await teams.say("aad-bob", "help")
    await slack.say("U2", "help")
    await _request(slack, teams, db)
    (request,) = await rows(db, LinkRequest)
    chat, user = {"requester": (slack, "U1"), "stranger on slack": (slack, "U2"),
                  "stranger on teams": (teams, "aad-bob"), "issuer": (teams, "aad-ana")}[who]
    numbers = {"n": request.id, "other": request.id + 1}
    people = await _people(db)
    await assert_refused_without_change(chat, db, user, command.format(**numbers), reason.format(**numbers))
    assert await _people(db) == people and len(await rows(db, LinkRequest)) == 1
    assert "one person" in (await teams.say("aad-ana", f"link confirm {request.id}")).text  # still Ana's to answer


async def test_a_request_lapses_with_its_code_and_the_tick_tells_the_requester(db, settings, clock):
    from tests.helpers import Clocked

    bot = Clocked(db, settings, clock)
    slack, teams = Chat(bot.chat.dispatcher, "slack", "T1"), Chat(bot.chat.dispatcher, "teams", "tenant-1")
    await _request(slack, teams, db)
    (request,) = await rows(db, LinkRequest)
    done = await bot.at(clock.now + timedelta(minutes=9))
    assert done["lapsed link requests"] == 0 and len(await rows(db, LinkRequest)) == 1
    clock.now += timedelta(minutes=1, seconds=1)
    await assert_refused_without_change(teams, db, "aad-ana", f"link confirm {request.id}", "has lapsed")
    done = await bot.at(clock.now)
    assert done["lapsed link requests"] == 1 and await rows(db, LinkRequest) == [] and await _people(db) == 2
    (told,) = [m for m in await outbox(db) if m.idempotency_key.startswith("link.lapsed:")]
    assert told.platform == "slack" and "Your link request lapsed" in told.payload["text"]
    assert (await bot.at(clock.now + timedelta(minutes=1)))["lapsed link requests"] == 0  # told once


@pytest.mark.parametrize("setup, command, reason, counted", [
    (None, "link NOPE1234", "not a valid link code", True),
    ("expired", "link {code}", "not a valid link code", True),
    ("same-platform", "link {code}", "made on slack too", True),  # or codes could be probed there
    ("own", "link {code}", "That code is yours", False),
    ("used", "link {code}", "not a valid link code", True),
])
async def test_bad_link_codes_are_refused(slack_and_teams, db, clock, setup, command, reason, counted):
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
    requests, codes = len(await rows(db, LinkRequest)), await count(db, LinkCode)
    if counted:  # a wrong code: nothing joined, nothing asked, one more wrong code counted
        before = await snapshot(db)
        answer = await caller_chat.say(caller, command.format(code=code))
        assert reason in answer.text and "Nothing was joined. 4 more wrong codes this hour" in answer.text
        assert await snapshot(db) == before
    else:
        await assert_refused_without_change(caller_chat, db, caller, command.format(code=code), reason)
    assert len(await rows(db, LinkRequest)) == requests and await count(db, LinkCode) == codes
    assert await count(db, LinkAttempt) == (1 if counted else 0)
    if setup == "same-platform":  # the code was not used up: it works where it can
        assert "I've asked U2" in (await teams.say("aad-ana", f"link {code}")).text


# --- wrong codes: five an hour --------------------------------------------------------------------
async def test_the_sixth_wrong_code_in_an_hour_is_refused_unread_even_from_another_process(db, settings, clock):
    slack = Chat(Dispatcher(db, settings, default_registry(), clock), "slack", "T1")
    teams = Chat(Dispatcher(db, settings, default_registry(), clock), "teams", "tenant-1")
    for attempt in range(5):
        clock.now += timedelta(minutes=1)
        wrong = await slack.say("U1", f"link WRONG{attempt:03d}")
        assert "not a valid link code" in wrong.text and "Nothing was joined" in wrong.text
    assert "That was the 5th wrong code this hour: `link <code>` waits until Mon 23 Nov 11:01 (UTC)" in wrong.text
    assert len(await rows(db, LinkAttempt)) == 5  # kept in the database, for every process

    code = _code(await teams.say("aad-ana", "link"))
    other_process = Chat(Dispatcher(db, settings, default_registry(), clock), "slack", "T1")
    await assert_refused_without_change(other_process, db, "U1", f"link {code}",
                                        "Too many wrong link codes: 5 in the last hour, so this one was not checked. "
                                        "Try again after Mon 23 Nov 11:01 (UTC)")
    assert [c.code for c in await rows(db, LinkCode)] == [code]  # not even looked up: still there, unused
    assert await rows(db, LinkRequest) == [] and len(await rows(db, LinkAttempt)) == 5
    # someone else is not limited by U1's attempts
    assert "I've asked aad-ana" in (await slack.say("U2", f"link {code}")).text

    clock.now = clock.now.replace(hour=11, minute=1, second=1)  # the first wrong code is an hour old
    fresh = _code(await teams.say("aad-ana", "link"))
    assert "I've asked aad-ana" in (await slack.say("U1", f"link {fresh}")).text


# --- unlink -------------------------------------------------------------------------------------
async def test_unlink_gives_each_platform_its_records_again_and_tells_both(slack_and_teams, db, clock):
    slack, teams = slack_and_teams
    await slack.say("U1", "commit slack before by fri")
    await teams.say("aad-ana", "commit teams before by fri")
    await teams.say("aad-ana", "timezone Europe/Berlin")
    assert "one person" in (await _link(slack, teams, db)).text
    clock.now += timedelta(hours=1)
    await slack.say("U1", "commit slack after by fri")
    await teams.say("aad-ana", "commit teams after by fri")
    await teams.say("aad-ana", "handoff <@aad-bob|bob> Acme: needs a demo")
    assert "C-2 (on Teams) · teams after" in (await slack.say("U1", "list")).text

    reply = await slack.say("U1", "unlink")
    assert reply.ok and "Unlinked: you are U1 on Slack again, and aad-ana on Teams is a person of their own" in reply.text
    assert "(commitments, handoffs, leads, asks" in reply.text
    assert await _people(db) == 3 and await rows(db, PersonLink) == []
    on_slack, on_teams = (await slack.say("U1", "list")).text, (await teams.say("aad-ana", "list")).text
    assert "C-1 · slack before" in on_slack and "C-2 · slack after" in on_slack
    assert "teams" not in on_slack.lower().replace("on teams", "") and "(on Teams)" not in on_slack
    assert "C-1 · teams before" in on_teams and "C-2 · teams after" in on_teams and "H-1" in on_teams
    assert "slack" not in on_teams.lower()
    ana_teams = (await rows(db, Person, Person.display_name == "aad-ana"))[0]
    assert ana_teams.timezone == "Europe/Berlin"  # her Teams clock came back with her
    (told,) = await _owed(db, "link.unlinked")
    assert "Unlinked: you are aad-ana on Teams again, and U1 on Slack is a person of their own" in told.text
    (to,) = [m for m in await outbox(db) if m.idempotency_key.startswith("link.unlinked:")]
    assert (to.platform, to.recipient_person_id) == ("teams", ana_teams.id)

    # split: nothing left to undo; linking again works as the first time
    await assert_refused_without_change(slack, db, "U1", "unlink", "not linked to another identity")
    assert "one person" in (await _link(slack, teams, db)).text
    assert await _people(db) == 2


async def test_unlink_typed_on_the_split_off_platform_answers_there(slack_and_teams, db):
    slack, teams = slack_and_teams
    await _link(slack, teams, db)  # Ana's Teams identity issued the code: Slack is the one split off
    reply = await slack.say("U1", "unlink")
    assert "Unlinked: you are U1 on Slack again, and aad-ana on Teams is a person of their own" in reply.text
    (told,) = await _owed(db, "link.unlinked")
    assert "you are aad-ana on Teams again" in told.text


async def test_unlink_typed_on_the_keepers_platform(slack_and_teams, db):
    slack, teams = slack_and_teams
    await _link(slack, teams, db)
    reply = await teams.say("aad-ana", "unlink")
    assert "Unlinked: you are aad-ana on Teams again, and U1 on Slack is a person of their own" in reply.text
    assert await _people(db) == 2


async def test_unlink_puts_back_what_the_link_deleted_because_both_had_one(db, clock):
    """Both identities were members of one partnership: the link keeps one membership, the unlink
    gives the split-off person theirs back, side and role as they were."""
    from storage.models import Partnership, PartnershipMember

    async with db.transaction() as store:
        slack_ws = await store.workspace("slack", "T1", clock.now)
        teams_ws = await store.workspace("teams", "tenant-1", clock.now)
        keeper = await store.person(slack_ws, "U1", "ana", clock.now)
        other = await store.person(teams_ws, "aad-ana", "Ana", clock.now)
        p = Partnership(workspace_id=slack_ws.id, number=1, name="Acme", name_key="acme", created_by_id=keeper.id,
                        created_at=clock.now)
        await store.add(p)
        await store.add(PartnershipMember(partnership_id=p.id, person_id=keeper.id, side="a", role="manager",
                                          added_at=clock.now),
                        PartnershipMember(partnership_id=p.id, person_id=other.id, side="b", role="rep",
                                          added_at=clock.now))
        link = await store.merge_person(other, keeper, clock.now)
    assert [(m.person_id, m.side) for m in await rows(db, PartnershipMember)] == [(keeper.id, "a")]
    async with db.transaction() as store:
        split, platforms = await store.unlink_person(await store.get(PersonLink, link.id),
                                                     await store.get_person(keeper.id))
    assert platforms == ["teams"]
    members = {(m.person_id, m.side, m.role, m.added_at) for m in await rows(db, PartnershipMember)}
    assert members == {(keeper.id, "a", "manager", clock.now), (split.id, "b", "rep", clock.now)}


async def test_the_console_links_confirms_and_unlinks_like_the_platforms(db, settings, clock):
    dispatcher = Dispatcher(db, settings, default_registry(), clock)
    console, slack = Chat(dispatcher), Chat(dispatcher, "slack", "T1")
    await console.say("ana", "commit console thing by fri")
    code = _code(await console.say("ana", "link"))
    assert "I've asked ana on Console to confirm" in (await slack.say("U1", f"link {code}")).text
    (prompt,) = await _owed(db, "link.request")
    assert "U1 (Slack, workspace T1) typed your link code" in prompt.text and "`link confirm " in prompt.text
    linked = await console.say("ana", "link confirm")
    assert "one person (ana) on Console and Slack" in linked.text
    assert "C-1 (on Console) · console thing" in (await slack.say("U1", "list")).text
    unlinked = await console.say("ana", "unlink")
    assert "Unlinked: you are ana on Console again, and U1 on Slack is a person of their own" in unlinked.text
    assert "console thing" not in (await slack.say("U1", "list")).text
