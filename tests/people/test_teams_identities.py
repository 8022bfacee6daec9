"""A Teams user is one person whichever id they were met by.

Teams sends a mention as {"id": "29:…", "name": …}, with no AAD object id; a person who writes
comes with both (`from.id` and `from.aadObjectId`); the people picker of a form gives the AAD
object id only. Before, each id made its own person: a handoff to a mentioned rep never reached
her. Here, with Bot Framework JSON shaped as Teams sends it over /api/messages, the fake
connector answering the roster (or not), and time moved by `partnerbot tick` processes.
"""
from __future__ import annotations

import pytest

from storage.models import ActivityLog, Commitment, Handoff, Identity, Person
from tests.fakes.teams_connector import Posted, mention, message, person
from tests.helpers import rows
from tests.processes.test_cadence_process import NEW_YORK, at
from tests.processes.test_meeting_process import JONAS, MARIA_TEAMS, room  # noqa: F401  (fixture)

pytestmark = pytest.mark.process

MEGAN = person("aad-megan", "Megan Bowen")
MEGANS_CHAT = "a:personal-aad-megan"


async def meeting_in_progress(room) -> None:  # noqa: F811
    """Jonas (Teams) and Maria run P-1 and its weekly meeting in the team's channel; M-1 is on."""
    await room.teams(MARIA_TEAMS, "help")
    await room.say_in_channel(JONAS, "partnership new Globex Alliance with <at>Maria</at>",
                              entities=(mention(MARIA_TEAMS),), local_timezone=NEW_YORK, when=at("2026-11-23 15:00"))
    await room.teams(MARIA_TEAMS, "partnership P-1 accept")
    await room.say_in_channel(JONAS, 'meeting new P-1 "Pipeline clinic" every tue 15:00 for 45m', local_timezone=NEW_YORK)
    assert (await room.tick(at("2026-11-24 20:00"))).work == {"meeting starts": 1}


async def first_message(room, sender: dict, text: str = "help") -> list[Posted]:  # noqa: F811
    """`sender` writes to the bot in their 1:1 chat for the first time: everything they receive."""
    before = len(room.connector.posted)
    activity = message(text, sender=sender, service_url=room.connector.url)
    response = await room.http.post(f"{room.url}/api/messages", json=activity)
    assert response.status in (200, 201), await response.text()
    await room.settle()
    return [p for p in room.connector.posted[before:] if p.conversation == activity["conversation"]["id"]]


async def people_named(db, name: str) -> list[Person]:
    return [p for p in await rows(db, Person) if p.display_name == name]


async def test_a_handoff_an_ask_and_an_action_item_to_a_mentioned_rep_reach_her_when_she_first_writes(
        room, db, connector):  # noqa: F811
    await meeting_in_progress(room)
    # the roster does not answer for Megan (connector.roster is empty): she is known by her 29:… id
    handed = await room.say_in_channel(JONAS, "handoff <at>Megan Bowen</at> Contoso: needs a security review by fri",
                                       entities=(mention(MEGAN),))
    assert "H-1 handed to Megan Bowen" in handed.fallback and "has not talked to Partnerbot yet" in handed.fallback
    asked = await room.say_in_channel(JONAS, "ask <at>Megan Bowen</at> who at Contoso signs the pilot by fri",
                                      entities=(mention(MEGAN),))
    assert "Q-1" in asked.fallback
    assigned = await room.say_in_channel(JONAS, "action M-1 <at>Megan Bowen</at> send the pilot plan by fri",
                                         entities=(mention(MEGAN),))
    assert "C-1" in assigned.fallback
    assert connector.to(MEGANS_CHAT) == [] and ("19:channel@thread.tacv2", "29:aad-megan") in connector.roster_asked

    received = await first_message(room, MEGAN)
    texts = [p.fallback for p in received]
    assert texts[0].startswith("Partnerbot verbs"), texts  # the answer to her message
    offer = next(p for p in received if "handed you H-1" in p.fallback)
    assert offer.submits == [("Accept", "handoff H-1 accept"), ("Decline", "handoff H-1 decline")]
    assert any("Q-1" in t and "who at Contoso signs the pilot" in t for t in texts), texts
    assert any("assigned you C-1" in t for t in texts), texts

    listing = await room.teams(MEGAN, "list")
    assert all(ref in listing.fallback for ref in ("H-1", "Q-1", "C-1")), listing.fallback
    accepted = await room.teams(MEGAN, None, value={"command": offer.submits[0][1]}, reply_to=offer.id)
    assert "You accepted H-1" in accepted.fallback
    (megan,) = await people_named(db, "Megan Bowen")
    (handoff,) = await rows(db, Handoff)
    assert handoff.to_id == megan.id and handoff.accepted_at is not None
    (identity,) = await rows(db, Identity, Identity.person_id == megan.id)
    assert (identity.external_id, identity.channel_account_id) == ("aad-megan", "29:aad-megan")
    # mentioned again (still no roster): found by her 29:… id, and still keyed by her AAD object id
    await room.say_in_channel(JONAS, "handoff <at>Megan Bowen</at> Fabrikam: a second opinion by fri",
                              entities=(mention(MEGAN),))
    assert [h.to_id for h in await rows(db, Handoff)] == [megan.id, megan.id]
    assert [(i.external_id, i.channel_account_id) for i in await rows(db, Identity, Identity.person_id == megan.id)
            ] == [("aad-megan", "29:aad-megan")]


async def test_with_the_roster_a_mention_and_a_picked_person_are_one_person_before_she_writes(
        room, db, connector):  # noqa: F811
    connector.add_to_roster(MEGAN)
    await meeting_in_progress(room)
    await room.say_in_channel(JONAS, "handoff <at>Megan Bowen</at> Contoso: needs a security review by fri",
                              entities=(mention(MEGAN),))
    (megan,) = await people_named(db, "Megan Bowen")
    (identity,) = await rows(db, Identity, Identity.person_id == megan.id)
    assert (identity.external_id, identity.channel_account_id, identity.email) == (
        "aad-megan", "29:aad-megan", "megan@example.com")
    await room.say_in_channel(JONAS, "ask <at>Megan Bowen</at> who signs the pilot by fri", entities=(mention(MEGAN),))
    assert [asked for _, asked in connector.roster_asked].count("29:aad-megan") == 1  # the answer is kept

    # the action-item form's people picker gives her AAD object id: the same Megan
    chat = "a:personal-aad-jonas"
    opened = await room.teams(JONAS, "meeting actions M-1", conversation=chat)
    data = opened.card["actions"][0]["data"]
    saved = await room.teams(JONAS, None, conversation=chat, reply_to=opened.id, value={
        **data, "owner_1": "aad-megan", "what_1": "send the pilot plan", "due_1": "2026-12-04"})
    assert "C-1 · Megan Bowen: send the pilot plan" in saved.fallback
    assert [p.id for p in await people_named(db, "Megan Bowen")] == [megan.id]
    (item,) = await rows(db, Commitment)
    assert item.owner_id == megan.id

    received = await first_message(room, MEGAN)
    assert any("handed you H-1" in p.fallback for p in received)
    assert any("assigned you C-1" in p.fallback for p in received)


async def test_two_persons_made_before_she_wrote_become_one_when_she_does(room, db, connector):  # noqa: F811
    await meeting_in_progress(room)
    # no roster: the mention makes Megan by 29:… id, the people picker another Megan by AAD object id
    await room.say_in_channel(JONAS, "handoff <at>Megan Bowen</at> Contoso: needs a security review by fri",
                              entities=(mention(MEGAN),))
    chat = "a:personal-aad-jonas"
    opened = await room.teams(JONAS, "meeting actions M-1", conversation=chat)
    await room.teams(JONAS, None, conversation=chat, reply_to=opened.id, value={
        **opened.card["actions"][0]["data"], "owner_1": "aad-megan", "what_1": "send the pilot plan",
        "due_1": "2026-12-04"})
    assert [p.display_name for p in await rows(db, Person)] == ["Maria", "Jonas", "Megan Bowen", "aad-megan"]

    received = await first_message(room, MEGAN)
    assert any("handed you H-1" in p.fallback for p in received)
    assert any("assigned you C-1" in p.fallback for p in received)
    (megan,) = await people_named(db, "Megan Bowen")
    (identity,) = await rows(db, Identity, Identity.person_id == megan.id)
    assert (identity.external_id, identity.channel_account_id) == ("aad-megan", "29:aad-megan")
    assert [h.to_id for h in await rows(db, Handoff)] == [megan.id]
    assert [c.owner_id for c in await rows(db, Commitment)] == [megan.id]
    (merged,) = await rows(db, ActivityLog, ActivityLog.action == "person.merged")
    assert merged.person_id == megan.id and merged.before["display_name"] == "Megan Bowen"
    listing = await room.teams(MEGAN, "list")
    assert "H-1" in listing.fallback and "C-1" in listing.fallback


async def test_a_mention_that_names_someone_elses_aad_id_ties_nobody_together(room, db, connector):  # noqa: F811
    """A mention entity is composed by the sender's client: only the roster may say whose 29:… id it is."""
    await room.teams(MARIA_TEAMS, "help")
    forged = {"type": "mention", "text": "<at>Megan Bowen</at>",
              "mentioned": {"id": "29:aad-megan", "name": "Megan Bowen", "aadObjectId": "aad-maria"}}
    await room.teams(JONAS, "handoff <at>Megan Bowen</at> Contoso: needs a security review by fri",
                     entities=[forged], conversation="a:personal-aad-jonas")
    (maria,) = await people_named(db, "Maria")
    (handoff,) = await rows(db, Handoff)
    assert handoff.to_id != maria.id
    (identity,) = await rows(db, Identity, Identity.person_id == maria.id)
    assert identity.channel_account_id == "29:aad-maria"
    assert connector.to("a:personal-aad-maria")[-1].fallback.startswith("Partnerbot verbs")  # told nothing
