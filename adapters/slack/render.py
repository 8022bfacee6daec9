"""Reply → Block Kit. The plain `text` always goes along, for notifications and old clients.

Every string of a Reply is plain text, ours and the users' mixed (a handoff's need, a person's
name): it is escaped wherever Slack would parse it (mrkdwn blocks and every `text` field), so
nothing typed by anyone becomes `<!channel>`, `<!here>`, a link `<url|label>` or a mention. The
only markup is ours, around escaped text (a card's title in bold)."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from handlers.kernel.grammar import MENTION
from handlers.kernel.model import Card, Form, Question, Reply
from handlers.kernel.text import mention_text, shown_name

SECTION_LIMIT = 3000  # a section's text
FIELD_LIMIT = 2000  # one of a section's fields
FIELDS_PER_SECTION = 10
TITLE_LIMIT = 24  # a modal's title, submit and close labels
INPUT_LIMIT = 3000  # plain_text_input's longest value
OPTION_LIMIT = 75  # an option's text and a select's placeholder
LABEL_LIMIT = 2000  # an input block's label and hint
FORM_CALLBACK = "pb:form"  # callback_id of every form modal; the submit listener matches its prefix
ANSWER_ACTION = "answer"  # action_id of the input element (text, user or date picker) of each question
REFUSAL_BLOCK = "pb:refusal"  # block_id prefix of the reason shown when a submit is refused
_MENTION_OR_SPECIAL = re.compile(MENTION.pattern + r"|([&<>])")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """`text` as Slack shows it literally: `&`, `<` and `>` escaped; a neutral mention as `@name`."""
    def one(m: re.Match) -> str:
        if m.group(3):
            return _ESCAPES[m.group(3)]
        return "".join(_ESCAPES.get(c, c) for c in mention_text(m.group(1), m.group(2)))

    return _MENTION_OR_SPECIAL.sub(one, text)


def _chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Escaped `text` in pieces of at most `limit` characters: cut at a line break or space in
    the second half of a piece when there is one, never inside an escape."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", limit // 2, limit), text.rfind(" ", limit // 2, limit))
        if cut > 0:
            pieces.append(text[:cut])
            text = text[cut + 1:]
            continue
        cut = limit
        entity = text.rfind("&", cut - 4, cut)  # "&amp;" is five characters
        if entity > 0:
            cut = entity
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return [piece if piece.strip() else " " for piece in pieces]


def _mrkdwn_sections(escaped: str) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in _chunks(escaped)]


def _section(text: str) -> list[dict]:
    return _mrkdwn_sections(escape(text))


def _facts(card: Card) -> list[dict]:
    """Facts side by side, ten fields to a section (Slack's most); a fact too long for a field
    (2000 characters) gets sections of its own, in its place, so nothing is cut off."""
    blocks: list[dict] = []
    fields: list[dict] = []

    def flush() -> None:
        if fields:
            blocks.append({"type": "section", "fields": fields.copy()})
            fields.clear()

    for fact in card.facts:
        text = f"*{escape(fact.label)}*\n{escape(fact.value)}"
        if len(text) <= FIELD_LIMIT:
            fields.append({"type": "mrkdwn", "text": text})
            if len(fields) == FIELDS_PER_SECTION:
                flush()
        else:
            flush()
            blocks.extend(_mrkdwn_sections(text))
    flush()
    return blocks


def _card(card: Card, index: int) -> list[dict]:
    blocks = _mrkdwn_sections(f"*{escape(card.title)}*" + (f"\n{escape(card.text)}" if card.text else ""))
    blocks.extend(_facts(card))
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


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{1,30}$")


def mention_line(reply: Reply) -> str:
    """`cc <@U1> <@U2>`: the people the bot names in `reply` (Reply.mentions), each a live
    mention when their Slack id is known, else an escaped `@name`; "" when it names nobody."""
    shown = [f"<@{m.user_id}>" if m.user_id and _SLACK_USER.match(m.user_id) else escape(f"@{shown_name(m.name)}")
             for m in reply.mentions]
    return f"cc {' '.join(shown)}" if shown else ""


def message(reply: Reply) -> dict:
    """Keyword arguments for chat.postMessage / chat.update / chat.postEphemeral / ack. The
    `text` (notifications, clients without blocks) is mrkdwn too: escaped like the blocks; the
    people the bot mentions follow in a line of their own."""
    cc = mention_line(reply)
    if not cc:
        return {"text": escape(reply.text), "blocks": blocks(reply)}
    return {"text": f"{escape(reply.text)}\n{cc}", "blocks": [*blocks(reply)[:49], *_mrkdwn_sections(cc)[:1]]}


def home_blocks(reply: Reply, notice: Reply | None = None) -> list[dict]:
    """The App Home tab: a header, what the last click did (`notice`), the reply, and how to act on it."""
    said = _section(f"{'' if notice.ok else ':warning: '}{notice.text}")[:3] if notice else []
    footer = {"type": "context", "elements": [{"type": "mrkdwn", "text": "Type `/partner help` to see every verb."}]}
    header = {"type": "header", "text": {"type": "plain_text", "text": "Partnerbot"}}
    return [header, *said, *blocks(reply)][:99] + [footer]  # Slack's most is 100 blocks


# -- forms as modals ---------------------------------------------------------------------------


def _plain(text: str, limit: int) -> dict:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text or " "}


# The element each kind of question is answered with; a refused modal is rebuilt from the
# submitted view, so the element type also tells which kind a question was.
_ELEMENTS = {"text": "plain_text_input", "person": "users_select", "date": "datepicker", "choice": "static_select"}
_KINDS = {element: kind for kind, element in _ELEMENTS.items()}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_USER_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")  # a Slack user id in our neutral mention


def _iso_date(value: str) -> str | None:
    """`value` when it is a real YYYY-MM-DD date (Slack refuses the whole view otherwise)."""
    if not _ISO_DATE.match(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def _option(choice: str) -> dict:
    return {"text": _plain(choice, OPTION_LIMIT), "value": choice[:OPTION_LIMIT]}


def _element(kind: str, multiline: bool, value: str, choices: tuple[str, ...] = ()) -> dict[str, Any]:
    """The input element of one question, prefilled with `value` when Slack can show it: a
    person as a mention (`<@U…|Name>`), a date as YYYY-MM-DD, a choice when it is one of the
    choices. A date phrase cannot go in a datepicker and is dropped; the picker starts empty."""
    element: dict[str, Any] = {"type": _ELEMENTS.get(kind, "plain_text_input"), "action_id": ANSWER_ACTION}
    if element["type"] == "static_select" and not choices:
        element["type"] = "plain_text_input"  # nothing to pick from: typed after all
    if element["type"] == "static_select":
        element["placeholder"] = _plain(_choices_text(choices), OPTION_LIMIT)
        element["options"] = [_option(choice) for choice in choices[:100]]  # Slack's most
        if value.strip() in choices[:100]:
            element["initial_option"] = _option(value.strip())
    elif element["type"] == "users_select":
        user = _USER_MENTION.match(value.strip())
        if user:
            element["initial_user"] = user.group(1)
    elif element["type"] == "datepicker":
        day = _iso_date(value)
        if day:
            element["initial_date"] = day
    else:
        element["multiline"] = multiline
        if value:
            element["initial_value"] = value[:INPUT_LIMIT]
    return element


def _choices_text(choices: tuple[str, ...]) -> str:
    """`Pick 1-5` for choices that count up from a number, else `Pick one`."""
    counting = all(c.isdigit() for c in choices) and \
        [int(c) for c in choices] == list(range(int(choices[0]), int(choices[0]) + len(choices)))
    return f"Pick {choices[0]}-{choices[-1]}" if counting and len(choices) > 1 else "Pick one"


def _input_block(block_id: str, label: str, kind: str, multiline: bool, value: str = "", hint: str = "",
                 choices: tuple[str, ...] = ()) -> dict:
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "optional": True,
                             "label": _plain(label, LABEL_LIMIT), "element": _element(kind, multiline, value, choices)}
    if hint:
        block["hint"] = _plain(hint, LABEL_LIMIT)
    return block


def _question(question: Question) -> dict:
    return _input_block(question.id, question.label, question.kind, question.multiline, question.value, question.hint,
                        question.choices)


def form_metadata(form: Form, channel: str | None, direct: bool) -> str:
    """What the submit needs back from Slack: the command to run and where the form was opened.
    Slack returns private_metadata untouched in the (signed) view_submission."""
    return json.dumps({"command": form.submit_command, "channel": channel, "direct": direct},
                      separators=(",", ":"))


def modal(form: Form, channel: str | None = None, direct: bool = False) -> dict:
    """The modal view for views.open: the intro, then one optional input per question (a text
    input, a user picker for a person, a date picker for a date)."""
    blocks = (_section(form.intro) if form.intro else []) + [_question(q) for q in form.questions]
    return {
        "type": "modal", "callback_id": FORM_CALLBACK, "title": _plain(form.title, TITLE_LIMIT),
        "submit": _plain(form.submit_label, TITLE_LIMIT), "close": _plain("Cancel", TITLE_LIMIT),
        "private_metadata": form_metadata(form, channel, direct), "blocks": blocks[:100],
    }


def refused_modal(view: Mapping[str, Any], reason: str, answers: Mapping[str, str]) -> dict:
    """The submitted modal again, with the reason it was refused on top and the answers kept
    (same block and action ids, so Slack keeps what was typed), to fix and submit again or cancel."""
    reason_blocks = [{**block, "block_id": f"{REFUSAL_BLOCK}:{i}"}
                     for i, block in enumerate(_section(f":warning: {reason}"))]
    blocks: list[dict] = []
    for block in view.get("blocks") or ():
        block_id = block.get("block_id") or ""
        if block_id.startswith(REFUSAL_BLOCK):
            continue  # the reason of an earlier refusal
        if block.get("type") == "input":
            element = block.get("element") or {}
            kind = _KINDS.get(element.get("type"), "text")  # a picker stays a picker
            choices = tuple(str((option or {}).get("value", "")) for option in element.get("options") or ())
            blocks.append(_input_block(block_id, (block.get("label") or {}).get("text", ""), kind,
                                       bool(element.get("multiline")), answers.get(block_id, ""),
                                       (block.get("hint") or {}).get("text", ""), choices))
        elif block.get("type") == "section" and block.get("text"):
            blocks.append({"type": "section", "text": block["text"]})
    refused = {
        "type": "modal", "callback_id": view.get("callback_id") or FORM_CALLBACK,
        "title": view.get("title") or _plain("Partnerbot", TITLE_LIMIT),
        "close": view.get("close") or _plain("Cancel", TITLE_LIMIT),
        "private_metadata": view.get("private_metadata") or "", "blocks": (reason_blocks + blocks)[:100],
    }
    if any(b["type"] == "input" for b in refused["blocks"]):
        refused["submit"] = view.get("submit") or _plain("Submit", TITLE_LIMIT)
    return refused


def field_errors(view: Mapping[str, Any], form: Form | None) -> dict[str, str] | None:
    """What Slack shows under each field of the open modal (`response_action: "errors"`, by
    block id) for a form refused field by field; None when the form has no field errors or
    names a field the submitted view does not have (Slack would refuse the whole answer)."""
    errors = form.errors if form else {}
    inputs = {block.get("block_id") for block in view.get("blocks") or () if isinstance(block, Mapping)
              and block.get("type") == "input"}
    if not errors or not set(errors) <= inputs:
        return None
    return {block_id: _plain(message, LABEL_LIMIT)["text"] for block_id, message in errors.items()}
