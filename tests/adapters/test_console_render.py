"""A reply written out from its cards (Reply.of_cards) says each thing once in the terminal,
also after a trip through the outbox; a card the text does not hold is shown whole."""
from adapters.console.render import render
from handlers.kernel.model import Button, Card, Fact, Reply

DIGEST = Reply.of_cards(
    Card("Peer sync S-1 · P-1 Acme", text="Both managers answered."),
    Card("What is working", facts=(Fact("ana", "joint demos"), Fact("dana", "webinars"))),
    Card("Agreement", text="ana agreed\ndana not agreed yet", buttons=(Button("Agree", "partnership P-1 agree"),)),
    sections=True,
)


def test_the_text_writes_the_cards_out_once_and_the_console_adds_only_their_buttons():
    assert DIGEST.text == ("Peer sync S-1 · P-1 Acme\nBoth managers answered.\n\n"
                           "What is working:\n  ana: joint demos\n  dana: webinars\n\n"
                           "Agreement:\n  ana agreed\n  dana not agreed yet")
    shown = render(DIGEST)
    assert shown.count("joint demos") == 1 and shown.count("dana not agreed yet") == 1
    assert shown.endswith("  ┌ Agreement\n  └ [Agree] type: partnership P-1 agree")


def test_after_the_outbox_the_console_still_shows_each_fact_once():
    delivered = Reply.from_dict(DIGEST.to_dict())  # what the sender reads back from an outbox row
    assert delivered == DIGEST
    assert render(delivered).count("joint demos") == 1


def test_a_card_the_text_does_not_hold_is_shown_whole_with_its_buttons():
    offer = Reply("ana handed you H-1: Acme — a security review. Accept or decline it.",
                  cards=(Card("Handoff H-1 from ana", facts=(Fact("Account", "Acme"),),
                              buttons=(Button("Accept", "handoff H-1 accept"),)),))
    assert render(offer).splitlines()[1:] == ["  ┌ Handoff H-1 from ana", "  │ Account: Acme",
                                              "  └ [Accept] type: handoff H-1 accept"]


def test_blocks_put_facts_before_text_and_more_text_after_a_blank_line():
    scorecard = Reply.of_cards(Card("Scorecard of ana", facts=(Fact("Kept on time", "75%"),)),
                               Card("Coaching · bob", text="1. A question?", facts=(Fact("Activity", "none"),)),
                               then="Your open commitments:\nC-1 · send deck",
                               more_cards=(Card("C-1 · send deck", buttons=(Button("Done", "done C-1"),)),))
    assert scorecard.text == ("Scorecard of ana\nKept on time: 75%\n\nCoaching · bob\nActivity: none\n1. A question?"
                              "\n\nYour open commitments:\nC-1 · send deck")
    assert scorecard.cards_in_text == 2 and len(scorecard.cards) == 3
    assert render(scorecard).endswith("  ┌ C-1 · send deck\n  └ [Done] type: done C-1")
