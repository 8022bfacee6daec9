"""What Partnerbot says about a commitment other than in answer to a command: that someone
gave you one, and its reminders (one `remind_before_hours` before due, then at due time)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from handlers.kernel.dates import format_instant
from handlers.kernel.model import Button, Card, Fact, Reply
from storage.models import Commitment, Person


def commitment_buttons(ref: str) -> tuple[Button, ...]:
    return (Button("Done", f"done {ref}", "primary"), Button("Snooze 1 day", f"snooze {ref}"),
            Button("Drop", f"drop {ref}", "danger"))


def assigned(c: Commitment, by: Person, due: str) -> Reply:
    """To its owner, from whoever gave it to them; `due` as the owner's clock shows it."""
    return Reply(
        f"{by.display_name} assigned you {c.ref}: {c.what} — due {due}.",
        cards=(Card(title=f"{c.ref} assigned to you", text=c.what,
                    facts=(Fact("Due", due), Fact("From", by.display_name))),),
    )


def reminder(c: Commitment, owner_tz: str) -> Reply:
    ref, due = c.ref, format_instant(c.due_at, owner_tz)
    return Reply(
        f"Reminder: {ref} is due {due}: {c.what}. Done, snooze 1 day or drop it: `done {ref}`, `snooze {ref}`, "
        f"`drop {ref} <reason>`.",
        cards=(Card(title=f"{ref} is due {due}", text=c.what, facts=_facts(c, due),
                    buttons=commitment_buttons(ref)),),
    )


def overdue(c: Commitment, owner_tz: str) -> Reply:
    ref, due = c.ref, format_instant(c.due_at, owner_tz)
    return Reply(
        f"{ref} is overdue (was due {due}): {c.what}. Mark it done, snooze it 1 day or drop it with a reason.",
        cards=(Card(title=f"{ref} is overdue", text=c.what, facts=_facts(c, due), buttons=commitment_buttons(ref)),),
    )


class AlsoDue(NamedTuple):
    """Something other than a commitment owed in the same message (a handoff's `by` date): its
    line, its card, whether it is overdue, and the last line's word on what to do with it."""

    line: str
    card: Card
    overdue: bool
    hint: str


def together(due: list[tuple[Commitment, bool]], owner_tz: str, also: Sequence[AlsoDue] = ()) -> Reply:
    """Several reminders and overdue notices of one owner at once, as one message: a line and a
    card (with its Done, Snooze 1 day and Drop buttons) per commitment. `due`: (commitment,
    whether it is overdue), in the order listed; `also`: other items listed after them."""
    lines, cards = [], []
    for c, is_overdue in due:
        ref, when = c.ref, format_instant(c.due_at, owner_tz)
        title = f"{ref} is overdue" if is_overdue else f"{ref} is due {when}"
        lines.append(f"• {title} (was due {when}): {c.what}" if is_overdue else f"• {title}: {c.what}")
        cards.append(Card(title=title, text=c.what, facts=_facts(c, when), buttons=commitment_buttons(ref)))
    lines += [f"• {item.line}" for item in also]
    cards += [item.card for item in also]
    count = len(due) + len(also)
    overdue_count = sum(1 for _, is_overdue in due if is_overdue) + sum(1 for item in also if item.overdue)
    things = "commitments" if not also else "handoffs" if not due else "commitments and handoffs"
    head = (f"{count} of your {things} are overdue:" if overdue_count == count
            else f"{count} of your {things} are due soon:" if not overdue_count
            else f"{count} of your {things} need you ({overdue_count} overdue):")
    hints = ["Mark each done, snooze it 1 day or drop it with a reason: `done C-n`, `snooze C-n`, "
             "`drop C-n <reason>`."] if due else []
    hints += list(dict.fromkeys(item.hint for item in also))  # each kind of advice once
    return Reply("\n".join([head, *lines, *hints]), cards=tuple(cards))


def _facts(c: Commitment, due: str) -> tuple[Fact, ...]:
    facts = [Fact("Due", due)]
    if c.account:
        facts.append(Fact("Re", c.account))
    return tuple(facts)
