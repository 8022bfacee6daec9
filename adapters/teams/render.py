"""Reply → Adaptive Card (schema 1.5). The reply's text is the card's fallback and summary."""
from __future__ import annotations

from handlers.model import Card, Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_STYLES = {"primary": "positive", "danger": "destructive"}


def _card_body(card: Card) -> tuple[list[dict], list[dict]]:
    body: list[dict] = [{"type": "TextBlock", "text": card.title, "weight": "Bolder", "wrap": True}]
    if card.text:
        body.append({"type": "TextBlock", "text": card.text, "wrap": True})
    if card.facts:
        body.append({"type": "FactSet", "facts": [{"title": f.label, "value": f.value} for f in card.facts]})
    actions = []
    for button in card.buttons:
        action = {"type": "Action.Submit", "title": button.label, "data": {"command": button.command}}
        if button.style in _STYLES:
            action["style"] = _STYLES[button.style]
        actions.append(action)
    return body, actions


def adaptive_card(reply: Reply) -> dict:
    body: list[dict] = []
    actions: list[dict] = []
    if reply.cards:
        for card in reply.cards:
            card_body, card_actions = _card_body(card)
            body.extend(card_body)
            actions.extend(card_actions)
    else:
        body.append({"type": "TextBlock", "text": reply.text, "wrap": True})
    card = {
        "type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5", "fallbackText": reply.text, "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def message_activity(reply: Reply) -> dict:
    """A Bot Framework message activity (wire JSON) carrying the reply."""
    return {
        "type": "message", "summary": reply.text, "textFormat": "plain",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": adaptive_card(reply)}],
    }
