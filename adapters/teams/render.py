"""Reply → Adaptive Card (schema 1.5). The reply's text is the card's fallback and summary.

Teams reads a TextBlock's text and a FactSet's titles and values as markdown (links `[label](url)`,
`**bold**`, `_italic_`, lists and quotes at the start of a line). Every string of a Reply is
plain text, ours and the users' mixed, so each is escaped there (`markdown`): nothing typed by
anyone becomes a link, emphasis, a list or an `<at>` mention. Our own formatting is the
card's (a title's weight), never markup inside the text. The fallback and summary are plain text."""
from __future__ import annotations

import re
from datetime import date

from handlers.kernel.model import FIX_FORM, Card, Form, Question, Reply
from handlers.kernel.text import plain_mentions, shown_name

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_STYLES = {"primary": "positive", "danger": "destructive"}
# Keys of a form's submit data. Teams merges the inputs' values into the same object, so no
# question may use one of them as its id. `pb_people` lists the person questions (their people
# picker submits a bare AAD object id), `pb_names` the names of the people prefilled in them.
FORM_KEYS = ("command", "pb_form", "pb_inputs", "pb_people", "pb_names")
PEOPLE_DATASET = "graph.microsoft.com/users"  # the people picker searches the whole organisation
_MENTION = re.compile(r"^<@([A-Za-z0-9._:\-]+)(?:\|([^>]*))?>$")  # our neutral mention, whole


# Characters that are markdown anywhere in a line: emphasis, code, links, images, HTML and
# `<at>` tags, and the backslash itself when it could escape one of them (or break a line).
_INLINE = re.compile(r"\\(?=[!-/:-@\[-`{-~\r\n])|[*_`~\[\]<]|(?<=\])\(")
# …and at the start of a line (after any indentation): a heading, quote, list item, rule or
# setext underline.
_LINE_START = re.compile(r"(?:^|(?<=[\r\n]))([ \t]*)(?:([#>+=-])|(\d+)([.)]))")


def markdown(text: str) -> str:
    """`text` as a TextBlock or a fact shows it literally: every character that Teams' markdown
    would read as markup is backslash-escaped (CommonMark), a neutral mention is `@name`."""
    text = _INLINE.sub(lambda m: "\\" + m.group(0), plain_mentions(text))
    return _LINE_START.sub(lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"),
                           text)


def _text_block(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": markdown(text), **style}


def _iso_date(value: str) -> str | None:
    """`value` when it is a real YYYY-MM-DD date."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def _input(question: Question, names: dict[str, str]) -> dict:
    """The input of one question: a people picker for a person (prefilled from a mention, its
    name as a static choice so Teams shows it), a date picker for a date (prefilled from
    YYYY-MM-DD; a date phrase cannot be shown in it), a drop-down for a choice, else a text input."""
    if question.kind == "person":
        field = {"type": "Input.ChoiceSet", "id": question.id, "label": question.label, "isRequired": False,
                 "isMultiSelect": False, "choices": [],
                 "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET}}
        mentioned = _MENTION.match(question.value.strip())
        if mentioned:
            field["value"] = mentioned.group(1)
            if mentioned.group(2):
                names[mentioned.group(1)] = mentioned.group(2)
                field["choices"] = [{"title": mentioned.group(2), "value": mentioned.group(1)}]
        return field
    if question.kind == "choice" and question.choices:  # picked from a list, never typed
        field = {"type": "Input.ChoiceSet", "id": question.id, "label": question.label, "isRequired": False,
                 "isMultiSelect": False, "style": "compact", "placeholder": "Pick one",
                 "choices": [{"title": choice, "value": choice} for choice in question.choices]}
        if question.value.strip() in question.choices:
            field["value"] = question.value.strip()
        return field
    if question.kind == "date":
        field = {"type": "Input.Date", "id": question.id, "label": question.label, "isRequired": False}
        day = _iso_date(question.value)
        if day:
            field["value"] = day
        return field
    field = {"type": "Input.Text", "id": question.id, "label": question.label,
             "isMultiline": question.multiline, "isRequired": False}
    if question.value:
        field["value"] = question.value
    return field


def _card_body(card: Card) -> tuple[list[dict], list[dict]]:
    body: list[dict] = [_text_block(card.title, weight="Bolder", wrap=True)]
    if card.text:
        body.append(_text_block(card.text, wrap=True))
    if card.facts:
        body.append({"type": "FactSet",
                     "facts": [{"title": markdown(f.label), "value": markdown(f.value)} for f in card.facts]})
    actions = []
    for button in card.buttons:
        action = {"type": "Action.Submit", "title": button.label, "data": {"command": button.command}}
        if button.style in _STYLES:
            action["style"] = _STYLES[button.style]
        actions.append(action)
    return body, actions


def _form_body(form: Form) -> tuple[list[dict], list[dict]]:
    """The form's intro, one input per question, and a submit that carries its command;
    Teams adds each input's value to the submit's data under the input's id. A form refused
    field by field (Form.refused) has each answer filled in and each reason under its field."""
    body: list[dict] = [_text_block(form.title, weight="Bolder", size="Medium", wrap=True)]
    if form.intro:
        body.append(_text_block(form.intro, wrap=True))
    if form.errors:  # a refused submit shown again: what to do, then each reason under its field
        body.append(_text_block(FIX_FORM, color="Attention", weight="Bolder", wrap=True))
    names: dict[str, str] = {}
    for question in form.questions:
        if question.id in FORM_KEYS:
            raise ValueError(f"a form question cannot have the id {question.id!r} on Teams")
        body.append(_input(question, names))
        if question.hint:
            body.append(_text_block(question.hint, isSubtle=True, size="Small", spacing="None", wrap=True))
        if question.error:
            body.append(_text_block(question.error, color="Attention", size="Small", spacing="None", wrap=True))
    data = {"command": form.submit_command, "pb_form": True, "pb_inputs": [q.id for q in form.questions]}
    people = [q.id for q in form.questions if q.kind == "person"]
    if people:
        data["pb_people"] = people
    if names:
        data["pb_names"] = names
    submit = {"type": "Action.Submit", "title": form.submit_label, "style": "positive", "data": data}
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
        body.append(_text_block(reply.text, wrap=True))
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


_TEAMS_USER = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")  # a 29:… id or an AAD object id


def mentions(reply: Reply) -> tuple[str, list[dict]]:
    """The line `cc <at>ana</at> …` naming the people the bot mentions in `reply`
    (Reply.mentions) and one `mention` entity per person whose Teams id is known; the others
    are a plain `@name`. ("", []) when it names nobody."""
    shown, entities = [], []
    for m in reply.mentions:
        name = markdown(shown_name(m.name))
        if m.user_id and _TEAMS_USER.match(m.user_id):
            tag = f"<at>{name}</at>"
            entities.append({"type": "mention", "text": tag,
                             "mentioned": {"id": m.user_id, "name": shown_name(m.name)}})
            shown.append(tag)
        else:
            shown.append(f"@{name}")
    return (f"cc {' '.join(shown)}" if shown else ""), entities


def message_activity(reply: Reply) -> dict:
    """A Bot Framework message activity (wire JSON) carrying the reply; the people the bot
    mentions follow in a line of the card, with their mention entities (on the card, where
    Teams reads them, and on the activity)."""
    card = adaptive_card(reply)
    activity = {
        "type": "message", "summary": reply.text, "textFormat": "plain",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }
    cc, entities = mentions(reply)
    if cc:
        card["body"].append({"type": "TextBlock", "text": cc, "wrap": True})
    if entities:
        card["msteams"] = {"entities": entities}
        activity["entities"] = entities
    return activity
