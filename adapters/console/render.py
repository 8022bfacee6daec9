"""Reply → terminal text. Buttons become the command to type.

Every string of a Reply may hold someone's text: control characters in it (ANSI escape
sequences that recolour, move the cursor, clear the screen or set the window title; a carriage
return that overwrites the line; bidi overrides that reorder it) are shown as visible escapes
(`\\x1b`), never sent to the terminal. Line breaks and tabs stay."""
from __future__ import annotations

import re
from typing import TextIO

from handlers.kernel.model import Reply
from handlers.kernel.text import shown_name

# C0 controls but tab and line feed, DEL, C1 controls (a lone 0x9b starts a sequence too) and
# the bidirectional overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: str) -> str:
    """`text` with every control character shown as its escape, so printing it cannot drive the terminal."""
    return _CONTROL.sub(lambda m: _visible(m.group(0)), text.replace("\r\n", "\n"))


class SafeWriter:
    """A text stream that writes everything through `safe` (a form's questions, as they are asked)."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(safe(text))

    def flush(self) -> None:
        self.out.flush()


def render(reply: Reply) -> str:
    lines = [reply.text]
    for n, card in enumerate(reply.cards):
        # a card the text writes out already (Reply.of_cards) adds only its buttons
        facts = () if n < reply.cards_in_text else card.facts
        if not facts and not card.buttons:
            continue
        lines.append(f"  ┌ {card.title}")
        lines.extend(f"  │ {fact.label}: {fact.value}" for fact in facts)
        lines.extend(f"  └ [{button.label}] type: {button.command}" for button in card.buttons)
    if reply.mentions:  # the people the bot names, to notify them
        lines.append("cc " + " ".join(f"@{shown_name(m.name)}" for m in reply.mentions))
    return safe("\n".join(lines))
