"""Reply → terminal text. Buttons become the command to type."""
from __future__ import annotations

from handlers.kernel.model import Reply


def render(reply: Reply) -> str:
    lines = [reply.text]
    for card in reply.cards:
        # the text already says most facts (a scorecard says all of them): don't print them twice
        facts = [fact for fact in card.facts if f"{fact.label}: {fact.value}" not in reply.text]
        if not facts and not card.buttons:
            continue
        lines.append(f"  ┌ {card.title}")
        lines.extend(f"  │ {fact.label}: {fact.value}" for fact in facts)
        lines.extend(f"  └ [{button.label}] type: {button.command}" for button in card.buttons)
    return "\n".join(lines)
