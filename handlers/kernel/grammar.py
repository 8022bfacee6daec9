"""Tokens of the command grammar: mentions, references, and the `by <date>` tail."""
from __future__ import annotations

import re
from datetime import date

from handlers.kernel.dates import is_date

# Slack sends <@U123|name> or <@U123>; the other adapters rewrite their mentions to this form.
MENTION = re.compile(r"<@([A-Za-z0-9._:\-]+)(?:\|([^>]*))?>")
_REF = re.compile(r"^#?([A-Za-z])-?(\d{1,9})$")
_BY = re.compile(r"\bby\b", re.IGNORECASE)


def split_verb(text: str) -> tuple[str, str]:
    text = text.strip()
    if not text:
        return "", ""
    head, _, rest = text.partition(" ")
    return head.lower(), rest.strip()


def parse_ref(token: str, kind: str) -> int | None:
    """`C-12`, `c12`, `#C-12` → 12 when the letter is `kind`."""
    m = _REF.match(token.strip())
    if m and m.group(1).upper() == kind:
        return int(m.group(2))
    return None


def ref_kind(token: str) -> str | None:
    m = _REF.match(token.strip())
    return m.group(1).upper() if m else None


def take_mention(text: str) -> tuple[str, str | None, str] | None:
    """A mention at the start of `text`: (user id, name or None, the rest)."""
    m = MENTION.match(text.strip())
    if not m:
        return None
    return m.group(1), m.group(2), text.strip()[m.end():].strip()


def split_by_date(text: str, today: date) -> tuple[str, str | None]:
    """Split 'what … by <date phrase>' at the last `by` whose tail is a date.

    'call by phone by fri' → ('call by phone', 'fri'). A tail that is not a date leaves the
    text whole ('review by legal'), unless it is a past or impossible date, which parse_date
    then reports.
    """
    for m in reversed(list(_BY.finditer(text))):
        head, tail = text[: m.start()].strip(), text[m.end():].strip()
        if head and tail and is_date(tail, today):
            return head, tail
    return text.strip(), None
