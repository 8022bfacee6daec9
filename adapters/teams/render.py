"""Reply → Adaptive Card (schema 1.5). The reply's text is the card's fallback and summary."""
from __future__ import annotations

from handlers.model import Card, Form, Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_STYLES = {"primary": "positive", "danger": "destructive"}
# Keys of a form's submit data. Teams merges the inputs' values into the same object, so no
# question may use one of them as its id.
FORM_KEYS = ("command", "pb_form", "pb_inputs")


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


def _form_body(form: Form) -> tuple[list[dict], list[dict]]:
    """The form's intro, one text input per question, and a submit that carries its command;
    Teams adds each input's value to the submit's data under the input's id."""
    body: list[dict] = [{"type": "TextBlock", "text": form.title, "weight": "Bolder", "size": "Medium", "wrap": True}]
    if form.intro:
        body.append({"type": "TextBlock", "text": form.intro, "wrap": True})
    for question in form.questions:
        if question.id in FORM_KEYS:
            raise ValueError(f"a form question cannot have the id {question.id!r} on Teams")
        field = {"type": "Input.Text", "id": question.id, "label": question.label,
                 "isMultiline": question.multiline, "isRequired": False}
        if question.value:
            field["value"] = question.value
        body.append(field)
        if question.hint:
            body.append({"type": "TextBlock", "text": question.hint, "isSubtle": True, "size": "Small",
                         "spacing": "None", "wrap": True})
    submit = {"type": "Action.Submit", "title": form.submit_label, "style": "positive",
              "data": {"command": form.submit_command, "pb_form": True,
                       "pb_inputs": [q.id for q in form.questions]}}
    return body, [submit]


def adaptive_card(reply: Reply) -> dict:
    body: list[dict] = []
    actions: list[dict] = []
    if reply.cards:
        for card in reply.cards:
            card_body, card_actions = _card_body(card)
            body.extend(card_body)
            actions.extend(card_actions)
    elif not reply.form:  # a form says what it is itself; the text stays the fallback and summary
        body.append({"type": "TextBlock", "text": reply.text, "wrap": True})
    if reply.form:
        form_body, form_actions = _form_body(reply.form)
        body.extend(form_body)
        actions.extend(form_actions)
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
