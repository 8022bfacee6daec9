"""partnership: new, add, goal, channel — and everything a wrong caller or wrong input gets."""
from handlers.kernel.model import Reply
from storage.models import Partnership, PartnershipChannel, PartnershipMember, SyncSeries
from tests.helpers import assert_refused_without_change, count, outbox, person_named, rows


async def test_new_proposes_side_b_binds_the_channel_and_acceptance_starts_both_sides(chat, db):
    reply = await chat.say("ana", "partnership new Acme Alliance with <@dana|Dana>", channel="C1")
    assert reply.ok and "P-1 Acme Alliance" in reply.text and "Dana" in reply.text and "bound" in reply.text
    (p,) = await rows(db, Partnership)
    ana, dana = await person_named(db, "ana"), await person_named(db, "Dana")
    assert p.status == "pending"
    (channel,) = await rows(db, PartnershipChannel)
    assert (channel.channel, channel.platform) == ("C1", "console")
    (told,) = await outbox(db)
    assert told.recipient_person_id == dana.id and "P-1 Acme Alliance" in told.payload["text"]
    assert [b["command"] for b in told.payload["cards"][0]["buttons"]] == ["partnership P-1 accept",
                                                                           "partnership P-1 decline"]

    assert (await chat.say("dana", "partnership P-1 accept")).ok
    members = {(m.person_id, m.side, m.role) for m in await rows(db, PartnershipMember)}
    assert members == {(ana.id, "a", "manager"), (dana.id, "b", "manager")}
    # each manager has a weekly prompt at Monday 09:00 of their own clock: the next is 30 Nov
    assert {s.next_run_at.isoformat() for s in await rows(db, SyncSeries)} == {"2026-11-30T09:00:00+00:00"}


async def test_new_in_a_direct_chat_binds_nothing_and_says_how_to(chat, db):
    reply = await chat.say("ana", "partnership new Acme Alliance with <@dana>", channel="D1", is_direct=True)
    assert reply.ok and "partnership P-1 channel" in reply.text
    assert await count(db, PartnershipChannel) == 0


async def test_new_refuses_no_mention_yourself_and_a_duplicate_name(chat, db):
    await assert_refused_without_change(chat, db, "ana", "partnership new Acme Alliance with dana", "Mention the peer manager")
    await assert_refused_without_change(chat, db, "ana", "partnership new Acme with <@ana>", "other than you")
    assert (await chat.say("ana", "partnership new Acme Alliance with <@dana>")).ok
    await assert_refused_without_change(chat, db, "bob", "partnership new  acme   ALLIANCE with <@carl>", "already a partnership called")
    assert await count(db, Partnership) == 1


async def test_add_invites_a_rep_to_the_callers_side_and_accepting_sets_their_manager(chat, db):
    await chat.say("ana", "partnership new Acme Alliance with <@dana|Dana>")
    await chat.say("dana", "partnership P-1 accept")
    assert (await chat.say("ana", "partnership P-1 add <@rita|Rita>")).ok  # the caller's own side
    reply = await chat.say("dana", "partnership p1 add <@sam|Sam> side b")
    assert reply.ok and "side B" in reply.text and "invited" in reply.text
    assert (await person_named(db, "Sam")).manager_id is None  # not before Sam accepts
    for rep in ("rita", "sam"):
        assert (await chat.say(rep, "partnership P-1 accept")).ok
    rita, sam = await person_named(db, "Rita"), await person_named(db, "Sam")
    assert rita.manager_id == (await person_named(db, "ana")).id
    assert sam.manager_id == (await person_named(db, "Dana")).id


async def test_add_is_for_a_sides_own_manager_and_once_per_person(chat, db):
    await chat.say("ana", "partnership new Acme Alliance with <@dana>")
    await chat.say("dana", "partnership P-1 accept")
    await chat.say("ana", "partnership P-1 add <@rita>")
    await assert_refused_without_change(chat, db, "ana", "partnership P-1 add <@rita>", "already invited")
    await chat.say("rita", "partnership P-1 accept")
    await assert_refused_without_change(chat, db, "rita", "partnership P-1 add <@sam>", "Only the two managers of P-1")
    await assert_refused_without_change(chat, db, "dana", "partnership P-1 add <@rita> side b", "already on side A")
    await assert_refused_without_change(chat, db, "dana", "partnership P-1 add <@sam> side a",
                                        "only side A's manager adds people to side A")
    await assert_refused_without_change(chat, db, "ana", "partnership P-1 add sam", "Mention")
    await assert_refused_without_change(chat, db, "ana", "partnership P-9 add <@sam>", "no partnership P-9")


async def test_goals_are_listed_and_outsiders_are_refused(chat, db):
    await chat.say("ana", "partnership new Acme Alliance with <@dana>")
    await chat.say("dana", "partnership P-1 accept")
    assert "Goal 1" in (await chat.say("ana", "partnership P-1 goal 3 joint wins in EMEA")).text
    assert "Goal 2" in (await chat.say("dana", "partnership P-1 goal one shared webinar")).text
    await assert_refused_without_change(chat, db, "eve", "partnership P-1 goal take over", "Only the two managers")
    shown = await chat.say("dana", "partnership P-1")
    assert "3 joint wins in EMEA" in shown.text and "one shared webinar" in shown.text


async def test_channel_binds_another_channel_once_and_never_a_direct_chat(chat, db):
    await chat.say("ana", "partnership new Acme Alliance with <@dana>", channel="C1")
    await chat.say("dana", "partnership P-1 accept")
    assert (await chat.say("dana", "partnership P-1 channel", channel="C2")).ok
    await assert_refused_without_change(chat, db, "dana", "partnership P-1 channel", "not in a direct chat")
    before = await count(db, PartnershipChannel)
    refused = await chat.say("ana", "partnership P-1 channel", channel="C2")
    assert not refused.ok and "already bound" in refused.text
    assert await count(db, PartnershipChannel) == before == 2


async def test_unknown_partnership_action_gets_the_usage(chat, db):
    await chat.say("ana", "partnership new Acme Alliance with <@dana>")
    reply = await chat.say("ana", "partnership P-1 dissolve")
    assert not reply.ok and "Usage:" in reply.text and "partnership P-n add" in reply.text
    assert isinstance(reply, Reply)
