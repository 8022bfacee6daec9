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


def _facts(c: Commitment, due: str) -> tuple[Fact, ...]:
    facts = [Fact("Due", due)]
    if c.account:
        facts.append(Fact("Re", c.account))
    return tuple(facts)
