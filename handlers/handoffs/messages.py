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



# --- its `by` date: a reminder before it, a notice once it has passed ---------------------------
# To the sender while the receiver has not accepted it (they wait on the receiver), then to the
# receiver. `next_stage`: the receiver's next step, as a button (None: none to offer).

def date_line(h: Handoff, sender: Person, receiver: Person, is_overdue: bool) -> str:
    """'H-3 to Bob is due Fri 11 Dec and Bob has not accepted it yet: Acme Corp — a review'."""
    when = day_text(h.due_date)
    state = f"is overdue (was due {when})" if is_overdue else f"is due {when}"
    if h.accepted_at is None:
        waiting = receiver.display_name
        return f"{h.ref} to {waiting} {state} and {waiting} has not accepted it yet: {h.account} — {h.need}"
    return f"{h.ref} from {sender.display_name} {state}: {h.account} — {h.need} (now {h.stage})"


def date_hint(h: Handoff, *, alone: bool) -> str:
    """What its reader can do: about it when `alone`, else about any handoff the message lists."""
    ref, it = (h.ref, "it") if alone else ("H-n", "a handoff")
    if h.accepted_at is None:
        return f"Nudge the receiver, or take {it} back: `handoff {ref} withdraw <reason>`."
    return f"Move {it} along with `handoff {ref} <stage>` (won or lost closes it), or see it: `handoff {ref}`."


def date_card(h: Handoff, sender: Person, receiver: Person, is_overdue: bool, next_stage: str | None) -> Card:
    when = day_text(h.due_date)
    title = f"{h.ref} is overdue" if is_overdue else f"{h.ref} is due {when}"
    facts = [Fact("By", when), Fact("Stage", h.stage)]
    buttons = (Button("Show", f"handoff {h.ref}"),)
    if h.accepted_at is None:
        facts.append(Fact("To", f"{receiver.display_name} (not accepted yet)"))
    else:
        facts.append(Fact("From", sender.display_name))
        if next_stage:
            buttons = (Button(next_stage.capitalize(), f"handoff {h.ref} {next_stage}", "primary"), *buttons)
    return Card(title=title, text=f"{h.account}: {h.need}", facts=tuple(facts), buttons=buttons)


def date_notice(h: Handoff, sender: Person, receiver: Person, is_overdue: bool, next_stage: str | None) -> Reply:
    """Its reminder (`is_overdue` False) or its overdue notice, alone in a message."""
    line = date_line(h, sender, receiver, is_overdue)
    return Reply(f"{'' if is_overdue else 'Reminder: '}{line}. {date_hint(h, alone=True)}",
                 cards=(date_card(h, sender, receiver, is_overdue, next_stage),))
