"""Who is told what when a partnership's people change or its charter is agreed (issue 21)."""
from handlers.kernel.model import Reply
from tests.helpers import sent


async def _partnered(chat):
    """P-1 between ana (side A) and dana (side B), both accepted."""
    assert (await chat.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await chat.say("dana", "partnership P-1 accept")).ok


async def test_a_rep_whose_invitation_is_withdrawn_is_told_and_a_rep_who_withdraws_it_tells_the_inviter(chat, db):
    await _partnered(chat)
    assert (await chat.say("ana", "partnership P-1 add <@rita|rita>")).ok
    reply = await chat.say("ana", "partnership P-1 remove <@rita|rita>")
    assert reply.ok and reply.text == "The invitation of rita to P-1 Acme Alliance is withdrawn; they are told."
    (told,) = await sent(db, "partnership.invite_withdrawn", "rita")
    assert told.payload["text"] == "ana withdrew your invitation to P-1 Acme Alliance: there is nothing to answer."
    assert (await chat.say("ana", "partnership P-1 add <@sam|sam>")).ok
    assert (await chat.say("sam", "partnership P-1 remove <@sam|sam>")).ok
    (declined,) = await sent(db, "partnership.invite_declined", "ana")
    assert declined.payload["text"] == "sam declined to join side A of P-1 Acme Alliance."


async def test_the_peer_manager_is_told_when_the_other_agrees_the_charter(chat, db):
    await _partnered(chat)
    assert (await chat.say("ana", "partnership P-1 agree")).ok
    (told,) = await sent(db, "charter.agreed", "dana")
    shown = Reply.from_dict(told.payload)
    assert shown.text.startswith("ana agreed to the charter of P-1 Acme Alliance (version 1).")
    assert [b.command for b in shown.cards[0].buttons] == ["partnership P-1 charter", "partnership P-1 agree"]
    assert (await chat.say("dana", "partnership P-1 agree")).ok
    (back,) = await sent(db, "charter.agreed", "ana")
    assert back.payload["text"] == ("dana agreed to the charter of P-1 Acme Alliance (version 1). Both managers "
                                    "have agreed: the charter stands.")
    assert not Reply.from_dict(back.payload).cards
