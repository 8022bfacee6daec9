"""Reply → Block Kit. The plain `text` always goes along, for notifications and old clients."""
from __future__ import annotations

import re

from handlers.model import Card, Reply

SECTION_LIMIT = 3000
_MENTION_OR_SPECIAL = re.compile(r"(<@[A-Za-z0-9._:\-]+(?:\|[^>]*)?>)|([&<>])")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Escape Slack's control characters, but keep user mentions working."""
    return _MENTION_OR_SPECIAL.sub(lambda m: m.group(1) or _ESCAPES[m.group(2)], text)


def _section(text: str) -> list[dict]:
    text = escape(text)
    chunks = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or [" "]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def _card(card: Card, index: int) -> list[dict]:
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(card.title)}*"
                                                       + (f"\n{escape(card.text)}" if card.text else "")}}]
    if card.facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{escape(f.label)}*\n{escape(f.value)}"[:2000]} for f in card.facts[:10]
        ]})
    if card.buttons:
        elements = []
        for i, button in enumerate(card.buttons[:25]):
            element = {"type": "button", "action_id": f"pb:{index}:{i}",
                       "text": {"type": "plain_text", "text": button.label[:75]}, "value": button.command}
            if button.style in ("primary", "danger"):
                element["style"] = button.style
            elements.append(element)
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def blocks(reply: Reply) -> list[dict]:
    if not reply.cards:
        return _section(reply.text)
    out: list[dict] = []
    for i, card in enumerate(reply.cards):
        out.extend(_card(card, i))
    return out[:50]


def message(reply: Reply) -> dict:
    """Keyword arguments for chat.postMessage / chat.update / ack."""
    return {"text": reply.text, "blocks": blocks(reply)}


def home_blocks(reply: Reply) -> list[dict]:
    """The App Home tab: a header, the reply, and how to act on it."""
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Partnerbot"}},
        *blocks(reply),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Type `/partner help` to see every verb."}]},
    ][:100]
