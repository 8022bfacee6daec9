"""Reply → terminal text. Buttons become the command to type."""
from __future__ import annotations

from handlers.model import Reply


def render(reply: Reply) -> str:
    lines = [reply.text]
    for card in reply.cards:
        lines.append(f"  ┌ {card.title}")
        lines.extend(f"  │ {fact.label}: {fact.value}" for fact in card.facts)
        lines.extend(f"  └ [{button.label}] type: {button.command}" for button in card.buttons)
    return "\n".join(lines)
