"""Reply → terminal text. Buttons become the command to type."""
from __future__ import annotations

from handlers.kernel.model import Reply


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
    return "\n".join(lines)
