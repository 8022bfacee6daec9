"""What Partnerbot says about a commitment other than in answer to a command: that someone
gave you one, and its reminders (one `remind_before_hours` before due, then at due time)."""
from __future__ import annotations

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


def together(due: list[tuple[Commitment, bool]], owner_tz: str) -> Reply:
    """Several reminders and overdue notices of one owner at once, as one message: a line and a
    card (with its Done, Snooze 1 day and Drop buttons) per commitment. `due`: (commitment,
    whether it is overdue), in the order listed."""
    lines, cards = [], []
    for c, is_overdue in due:
        ref, when = c.ref, format_instant(c.due_at, owner_tz)
        title = f"{ref} is overdue" if is_overdue else f"{ref} is due {when}"
        lines.append(f"• {title} (was due {when}): {c.what}" if is_overdue else f"• {title}: {c.what}")
        cards.append(Card(title=title, text=c.what, facts=_facts(c, when), buttons=commitment_buttons(ref)))
    overdue_count = sum(1 for _, is_overdue in due if is_overdue)
    head = (f"{len(due)} of your commitments are overdue:" if overdue_count == len(due)
            else f"{len(due)} of your commitments are due soon:" if not overdue_count
            else f"{len(due)} of your commitments need you ({overdue_count} overdue):")
    return Reply(
        "\n".join([head, *lines, "Mark each done, snooze it 1 day or drop it with a reason: `done C-n`, "
                    "`snooze C-n`, `drop C-n <reason>`."]),
        cards=tuple(cards),
    )


def _facts(c: Commitment, due: str) -> tuple[Fact, ...]:
    facts = [Fact("Due", due)]
    if c.account:
        facts.append(Fact("Re", c.account))
    return tuple(facts)
