"""Leads (L-n): what other capabilities ask of them."""
from __future__ import annotations

import re

from handlers.kernel.errors import UserError

_AMOUNT = re.compile(r"^[$€£]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*([km]?)$", re.IGNORECASE)
_WORD = re.compile(r"\S+")
# A number followed by one of these counts something else: "won 2 year deal", "3 seats"
_COUNTED = re.compile(r"(?:years?|yrs?|months?|mos?|weeks?|days?|seats?|users?|licen[cs]es?|sites?|units?|"
                      r"people|reps?|x|times|%|percent)\b", re.IGNORECASE)
# A trillion: beyond any deal, and well inside the 64-bit column (sums of many stay inside too).
MAX_AMOUNT_CENTS = 10 ** 12 * 100


def parse_amount(text: str) -> int:
    """'120000', '120,000', '$1.5m', '80k' → hundredths of the currency unit."""
    m = _AMOUNT.match(text.strip())
    if not m:
        raise UserError(f"I can't read '{text}' as an amount; use a number like 120000, 120k or 1.5m.")
    whole, part, scale = int(m.group(1).replace(",", "")), (m.group(2) or "").ljust(2, "0"), m.group(3).lower()
    cents = (whole * 100 + int(part)) * {"": 1, "k": 1_000, "m": 1_000_000}[scale]
    if cents > MAX_AMOUNT_CENTS:
        raise UserError(f"'{text}' is more than any deal I can record (up to {MAX_AMOUNT_CENTS // 100:,}).")
    return cents


def split_amount(text: str) -> tuple[int | None, str | None]:
    """What follows `won`: an amount first (read by `parse_amount`), then a note →
    (cents, note); '120k signed on Friday' → (12_000_000, 'signed on Friday'). Text that does
    not start with an amount is all note: (None, text). The longest start of up to three words
    that reads as an amount is taken, so '$ 1.5 m' is one; a number that counts something
    ('2 year deal', '30 seats') is note, not an amount."""
    words = list(_WORD.finditer(text))
    for n in range(min(3, len(words)), 0, -1):
        head = text[: words[n - 1].end()]
        rest = text[words[n - 1].end():].strip()
        if _AMOUNT.match(head.strip()) and not _COUNTED.match(rest):
            return parse_amount(head.strip()), rest or None
    return None, text.strip() or None
