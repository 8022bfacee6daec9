"""How records are named in replies, the same on every platform."""
from __future__ import annotations

from storage.models import Commitment, Handoff, Person

from handlers.dates import format_instant


def commitment_line(c: Commitment, owner: Person | None, tz: str) -> str:
    who = f" · {owner.display_name}" if owner else ""
    where = f" · re {c.account}" if c.account else ""
    return f"C-{c.number} · {c.what} · due {format_instant(c.due_at, tz)}{who}{where}"


def handoff_line(h: Handoff, people: dict[int, Person]) -> str:
    giver = people[h.from_id].display_name
    taker = people[h.to_id].display_name
    due = f" · by {h.due_date.strftime('%a')} {h.due_date.day} {h.due_date.strftime('%b')}" if h.due_date else ""
    accepted = "" if h.accepted_at else " · not accepted yet"
    return f"H-{h.number} · {h.account}: {h.need} · {h.stage} · {giver} → {taker}{due}{accepted}"
