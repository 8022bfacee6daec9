"""What Partnerbot says about a handoff to the people around it."""
from __future__ import annotations

from handlers.kernel.model import Button, Card, Fact, Reply
from handlers.kernel.text import day_text
from storage.models import Handoff, Person


def answer_buttons(ref: str) -> tuple[Button, ...]:
    return (Button("Accept", f"handoff {ref} accept", "primary"), Button("Decline", f"handoff {ref} decline", "danger"))


def handoff_card(h: Handoff, giver: Person, title: str, buttons: tuple[Button, ...] = ()) -> Card:
    facts = [Fact("Account", h.account), Fact("Need", h.need), Fact("From", giver.display_name)]
    if h.due_date:
        facts.append(Fact("By", day_text(h.due_date)))
    return Card(title=title, text=f"{h.account}: {h.need}", facts=tuple(facts), buttons=buttons)


def offered(h: Handoff, giver: Person) -> Reply:
    """To the receiving rep: accept or decline it."""
    return Reply(
        f"{giver.display_name} handed you {h.ref}: {h.account} — {h.need}. Accept or decline it.",
        cards=(handoff_card(h, giver, f"Handoff {h.ref} from {giver.display_name}", answer_buttons(h.ref)),),
    )


def accept_nudge(h: Handoff, giver: Person) -> Reply:
    """To the receiving rep who has not answered in `accept_within_hours`."""
    return Reply(
        f"{giver.display_name} is still waiting for you to accept {h.ref}: {h.account} — {h.need}.",
        cards=(Card(title=f"{h.ref} is waiting for your answer", text=f"{h.account}: {h.need}",
                    facts=(Fact("From", giver.display_name),), buttons=answer_buttons(h.ref)),),
    )


def stale(h: Handoff, reps: str, days: int) -> Reply:
    """To the reps' managers: it has stayed in one stage for `stale_after_days`."""
    return Reply(
        f"{h.ref} ({h.account}: {h.need}) has been {h.stage} for {days} days ({reps}). Worth a word with the reps.",
        cards=(Card(title=f"{h.ref} is stuck at {h.stage}", text=f"{h.account}: {h.need}",
                    facts=(Fact("Reps", reps), Fact("Days in stage", str(days)))),),
    )
