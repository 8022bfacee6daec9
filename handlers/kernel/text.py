"""How records and values are written in replies, the same on every platform."""
from __future__ import annotations

import re
from datetime import date

from handlers.kernel.dates import format_day, format_instant
from handlers.kernel.grammar import MENTION
from storage.models import Ask, Commitment, Handoff, Lead, Person

_NOT_IN_A_NAME = re.compile(r"[<>|\x00-\x1f\x7f]+")  # what a name shown for a mention keeps none of


def shown_name(name: str | None, fallback: str = "someone") -> str:
    """A name as a mention shows it: without `<`, `>`, `|` or control characters."""
    return " ".join(_NOT_IN_A_NAME.sub(" ", name or "").split()) or fallback


def mention_text(user_id: str, name: str | None) -> str:
    """A neutral mention `<@id|name>` as every renderer shows it: `@name`, plain text, never a
    live mention or tag (the id and the name were typed or chosen by someone, not by us)."""
    return f"@{shown_name(name, user_id)}"


def plain_mentions(text: str) -> str:
    """Every neutral mention in `text` as `@name` (mention_text)."""
    return MENTION.sub(lambda m: mention_text(m.group(1), m.group(2)), text)


def day_text(d: date) -> str:
    """'Fri 27 Nov'; 'Wed 1 Dec 2027' outside the current year (dates.format_day)."""
    return format_day(d)


def amount_text(cents: int) -> str:
    """120000000 → '1,200,000'; 12345 → '123.45'."""
    whole, part = divmod(cents, 100)
    return f"{whole:,}" + (f".{part:02d}" if part else "")


def hours_text(hours: float) -> str:
    """'15 h', '4.5 h': one decimal at most."""
    return f"{hours:.1f}".removesuffix(".0") + " h"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 win', '3 wins', '2 ideas'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def commitment_line(c: Commitment, owner: Person | None, tz: str) -> str:
    who = f" · {owner.display_name}" if owner else ""
    where = f" · re {c.account}" if c.account else ""
    return f"{c.ref} · {c.what} · due {format_instant(c.due_at, tz)}{who}{where}"


def handoff_line(h: Handoff, people: dict[int, Person]) -> str:
    giver = people[h.from_id].display_name
    taker = people[h.to_id].display_name
    due = f" · by {day_text(h.due_date)}" if h.due_date else ""
    accepted = "" if h.accepted_at else " · not accepted yet"
    return f"{h.ref} · {h.account}: {h.need} · {h.stage} · {giver} → {taker}{due}{accepted}"


def lead_line(lead: Lead, people: dict[int, Person], next_activity: Commitment | None, tz: str) -> str:
    """'L-2 · Acme: cross-sell analytics · owner Maria · next: C-9 demo, due …' (or what is missing)."""
    head = f"{lead.ref} · {lead.account}: {lead.idea} · owner {people[lead.owner_id].display_name}"
    if lead.status == "won":
        return head + " · won" + (f" ({amount_text(lead.amount_cents)})" if lead.amount_cents is not None else "")
    if lead.status == "lost":
        return head + f" · lost ({lead.close_reason})"
    if next_activity is None:
        return head + " · no next activity"
    return head + f" · next: {next_activity.ref} {next_activity.what}, due {format_instant(next_activity.due_at, tz)}"


def ask_line(a: Ask, people: dict[int, Person], viewer_id: int) -> str:
    """'Q-3 · Credit terms for Distributor X · asked by ana · by Fri 27 Nov · accepted', from the
    view of `viewer_id`: asked by someone, waiting on someone, or (a partnership's list) who
    asked whom."""
    asker, asked = people[a.asker_id].display_name, people[a.person_id].display_name
    if a.person_id == viewer_id:
        who = f"asked by {asker}"
    elif a.asker_id == viewer_id:
        who = f"waiting on {asked}"
    else:
        who = f"{asker} asked {asked}"
    due = f" · by {day_text(a.due_date)}" if a.due_date else ""
    status = "accepted" if a.status == "accepted" else "no response yet" if a.status == "open" else a.status
    return f"{a.ref} · {a.request} · {who}{due} · {status}"
