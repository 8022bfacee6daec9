"""Commitment reminders: one `remind_before_hours` before due, an overdue notice at due time.

A commitment carries its next step (`cadence_step`) and when it is due (`cadence_at`), so
the tick finds due work with one indexed query; the claim makes each step happen once per
due instant (a snooze moves the instant, so the snoozed commitment is reminded again).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers.kernel.dates import format_instant
from handlers.kernel.model import Button, Card, Fact, Reply
from storage.models import Commitment


def schedule_reminders(c: Commitment, now: datetime, remind_before_hours: float) -> None:
    """Set the first step still ahead: a reminder, or straight the overdue notice when the
    reminder time has passed already (a commitment due in a few hours needs no reminder)."""
    remind_at = c.due_at - timedelta(hours=remind_before_hours)
    if remind_at > now:
        c.cadence_at, c.cadence_step = remind_at, "reminder"
    else:
        c.cadence_at, c.cadence_step = c.due_at, "overdue"


def stop_reminders(c: Commitment) -> None:
    c.cadence_at = c.cadence_step = None


def commitment_buttons(ref: str) -> tuple[Button, ...]:
    return (Button("Done", f"done {ref}", "primary"), Button("Snooze 1 day", f"snooze {ref}"),
            Button("Drop", f"drop {ref}", "danger"))


def reminder(c: Commitment, owner_tz: str) -> Reply:
    ref, due = f"C-{c.number}", format_instant(c.due_at, owner_tz)
    return Reply(
        f"Reminder: {ref} is due {due}: {c.what}. Done, snooze 1 day or drop it: `done {ref}`, `snooze {ref}`, "
        f"`drop {ref} <reason>`.",
        cards=(Card(title=f"{ref} is due {due}", text=c.what, facts=_facts(c, due),
                    buttons=commitment_buttons(ref)),),
    )


def overdue(c: Commitment, owner_tz: str) -> Reply:
    ref, due = f"C-{c.number}", format_instant(c.due_at, owner_tz)
    return Reply(
        f"{ref} is overdue (was due {due}): {c.what}. Mark it done, snooze it 1 day or drop it with a reason.",
        cards=(Card(title=f"{ref} is overdue", text=c.what, facts=_facts(c, due), buttons=commitment_buttons(ref)),),
    )


def _facts(c: Commitment, due: str) -> tuple[Fact, ...]:
    facts = [Fact("Due", due)]
    if c.account:
        facts.append(Fact("Re", c.account))
    return tuple(facts)
