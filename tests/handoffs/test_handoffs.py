"""handoff: create, the receiver's Accept/Decline message, stages and who may move them."""
import pytest

from handlers.kernel.model import Reply
from storage.models import ActivityLog, Handoff
from tests.helpers import assert_refused_without_change, outbox, person_named, rows


async def test_a_handoff_is_offered_to_the_receiver_with_accept_and_decline(chat, db):
    reply = await chat.say("ana", "handoff <@bob|Bob> Acme Corp: needs a security review by fri")
    assert reply.ok and "H-1" in reply.text and "Bob" in reply.text
    (h,) = await rows(db, Handoff)
    assert (h.account, h.need, h.stage, str(h.due_date)) == ("Acme Corp", "needs a security review", "identified", "2026-11-27")
    (message,) = await outbox(db)
    bob = await person_named(db, "Bob")
    assert message.recipient_person_id == bob.id and message.status == "pending"
    offer = Reply.from_dict(message.payload)
    assert all(word in offer.text for word in ("H-1", "Acme Corp", "needs a security review", "ana"))
    assert [(b.label, b.command) for b in offer.cards[0].buttons] == [
        ("Accept", "handoff H-1 accept"), ("Decline", "handoff H-1 decline")]


async def test_accepting_from_the_button_replaces_the_offer_and_tells_the_sender(chat, db):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    reply = await chat.say("bob", "handoff H-1 accept", from_button=True)
    assert reply.ok and reply.replace_source and "accepted H-1" in reply.text
    assert not reply.cards[0].buttons  # the updated message has no buttons left
    (h,) = await rows(db, Handoff)
    assert h.accepted_at is not None
    told = [m for m in await outbox(db) if m.idempotency_key.startswith("handoff.accepted")]
    assert told[0].recipient_person_id == (await person_named(db, "ana")).id
    assert "bob accepted H-1" in told[0].payload["text"]


async def test_declining_records_the_reason(chat, db):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    assert (await chat.say("bob", "handoff h-1 decline not my territory")).ok
    (h,) = await rows(db, Handoff)
    assert h.declined_at is not None and h.decline_reason == "not my territory"
    told = [m for m in await outbox(db) if m.idempotency_key.startswith("handoff.declined")]
    assert "not my territory" in told[0].payload["text"]
    refused = await chat.say("ana", "handoff H-1 positioned")
    assert not refused.ok and "declined" in refused.text


async def test_stages_move_forward_and_the_other_rep_is_told(chat, db):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    assert (await chat.say("bob", "handoff H-1 accept")).ok  # only an accepted handoff can be won
    assert "now positioned" in (await chat.say("ana", "handoff H-1 positioned value explained")).text
    assert "now introduced" in (await chat.say("bob", "handoff H1 introduced")).text
    back = await chat.say("ana", "handoff H-1 positioned")
    assert not back.ok and "only move forward" in back.text
    assert "H-1 won: Acme Corp" in (await chat.say("ana", "handoff H-1 won")).text
    assert not (await chat.say("ana", "handoff H-1 lost")).ok
    keys = [m.idempotency_key for m in await outbox(db)]
    assert any(k.startswith("handoff.stage.positioned") for k in keys)
    log = await rows(db, ActivityLog, ActivityLog.action == "handoff.stage")
    assert [entry.after["stage"] for entry in log] == ["positioned", "introduced", "won"]
    assert log[0].after["note"] == "value explained"


async def test_a_manager_of_either_rep_may_move_it(chat, db):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    await chat.say("carol", "help")
    carol, bob = await person_named(db, "carol"), await person_named(db, "bob")
    refused = await chat.say("carol", "handoff H-1 positioned")
    assert not refused.ok and "Only the two reps" in refused.text
    async with db.session() as s:
        (await s.get(type(bob), bob.id)).manager_id = carol.id
    assert (await chat.say("carol", "handoff H-1 positioned")).ok


@pytest.mark.parametrize("who, command, reason", [
    ("ana", "handoff <@ana> Acme: needs a review", "to yourself"),
    ("ana", "handoff bob Acme: needs a review", "Mention"),
    ("ana", "handoff <@bob> Acme needs a review", "colon"),
    ("ana", "handoff <@bob> : needs a review", "Name the account"),
    ("ana", "handoff <@bob> Acme:   ", "needs after the colon"),
    ("ana", "handoff <@bob> Acme: review by 2026-01-01", "in the past"),
    ("ana", "handoff H-9 positioned", "no handoff H-9"),
    ("ana", "handoff H-1 shipped", "not a stage"),
    ("carol", "handoff H-1", "Only ana or bob and their managers can see H-1"),  # `handoff H-n` shows it
    ("ana", "handoff H-1 accept", "Only the rep"),
    ("carol", "handoff H-1 positioned", "Only the two reps"),
])
async def test_bad_handoffs_get_a_reason_and_change_nothing(chat, db, who, command, reason):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    await assert_refused_without_change(chat, db, who, command, reason)


async def test_accepting_twice_is_refused(chat):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    await chat.say("bob", "handoff H-1 accept")
    again = await chat.say("bob", "handoff H-1 decline")
    assert not again.ok and "already accepted" in again.text


async def test_the_sender_withdraws_a_handoff_before_acceptance_and_the_receiver_is_told(chat, db):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    reply = await chat.say("ana", "handoff H-1 withdraw sent to the wrong rep")
    assert reply.ok and "H-1 withdrawn" in reply.text and "bob has been told" in reply.text
    (h,) = await rows(db, Handoff)
    assert h.stage == "withdrawn" and h.accepted_at is None
    (log,) = await rows(db, ActivityLog, ActivityLog.action == "handoff.withdrawn")
    assert log.after["reason"] == "sent to the wrong rep"
    (told,) = [m for m in await outbox(db) if m.idempotency_key.startswith("handoff.withdrawn")]
    assert told.recipient_person_id == (await person_named(db, "bob")).id
    assert "sent to the wrong rep" in told.payload["text"]
    assert "H-1" not in (await chat.say("bob", "list")).text
    late = await chat.say("bob", "handoff H-1 accept", from_button=True)  # the offer's button, clicked late
    assert not late.ok and "withdrawn" in late.text


@pytest.mark.parametrize("accepted, user, command, reason", [
    (False, "bob", "handoff H-1 withdraw not mine", "Only the rep who handed over H-1"),
    (False, "carl", "handoff H-1 withdraw not mine", "Only the rep who handed over H-1"),
    (False, "ana", "handoff H-1 withdraw", "Give a reason"),
    (True, "ana", "handoff H-1 withdraw changed my mind", "accepted already"),
    (False, "ana", "handoff H-7 withdraw oops", "no handoff H-7"),
])
async def test_who_may_withdraw_a_handoff(chat, db, accepted, user, command, reason):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    if accepted:
        await chat.say("bob", "handoff H-1 accept")
    await assert_refused_without_change(chat, db, user, command, reason)


async def test_a_handoff_is_shown_with_its_history_to_its_reps(chat):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    await chat.say("bob", "handoff H-1 accept")
    await chat.say("bob", "handoff H-1 positioned value explained")
    lines = (await chat.say("ana", "handoff H-1")).text.splitlines()
    assert lines[0] == "H-1 · Acme Corp: needs a security review · positioned · ana → bob"
    assert lines[2:] == ["Mon 23 Nov 10:00 · ana created it", "Mon 23 Nov 10:00 · bob accepted it",
                         "Mon 23 Nov 10:00 · bob moved it to positioned — note: value explained"]
    assert (await chat.say("bob", "handoff h1")).ok
