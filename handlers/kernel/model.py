"""The platform-neutral messages that flow between adapters and handlers.

Adapters turn a platform payload into a `Command` and render a `Reply` natively
(Block Kit, Adaptive Card, terminal text). A button carries the command text it
stands for, so a click comes back as a `Command` exactly like a typed one.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Account:
    """What a platform says of a user besides their id and name."""

    other_id: str | None = None  # Teams: the 29:… user id (what mentions carry) beside the AAD object id
    email: str | None = None  # Teams roster; Slack users.info with the users:read.email scope
    # Slack Connect: a mentioned person's own workspace (team id) when it is not the caller's;
    # they are that workspace's person, not a new one in the caller's
    workspace: str | None = None


@dataclass(frozen=True)
class Command:
    platform: str  # slack | teams | console
    workspace: str  # Slack team_id, Teams tenantId, console workspace name
    user: str  # the caller's platform user id
    text: str  # the command without its prefix, e.g. "commit send deck by fri"
    user_name: str | None = None
    channel: str | None = None
    platform_timezone: str | None = None  # from the user's platform profile, when known
    mention_names: Mapping[str, str] = field(default_factory=dict)  # user id -> display name
    accounts: Mapping[str, Account] = field(default_factory=dict)  # user id -> more of the caller or a mentioned person
    delivery_id: str | None = None  # platform id of this delivery, for deduplicating retries
    from_button: bool = False  # a click on a button of an earlier reply
    contact: Mapping[str, Any] | None = None  # how to reach the caller later (Teams conversation reference)
    channel_contact: Mapping[str, Any] | None = None  # how to post into `channel` later, where that needs one
    is_direct: bool = False  # typed in a 1:1 chat with the bot (not in a channel or group)
    form_values: Mapping[str, str] | None = None  # the answers of a submitted Form; None when typed
    platform_admin: bool = False  # the platform says the caller administers the workspace (Slack owner/admin)
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


# Platforms on which the bot can only message someone who has talked to it before (it needs
# the conversation reference of their last activity); elsewhere it can open a chat itself.
NEEDS_FIRST_CONTACT = frozenset({"teams"})


@dataclass(frozen=True)
class Button:
    label: str
    command: str  # the command text a click runs, e.g. "handoff H-1 accept"
    style: str | None = None  # "primary" | "danger" | None


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Card:
    title: str
    text: str = ""
    facts: tuple[Fact, ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Mention:
    """Someone the bot itself names in a post, so that they are notified (a line `cc @name …`
    each adapter renders as its live mention). Only the bot makes these: user text never does.
    `user_id`, their account on the post's platform, is filled in when the post is owed
    (outbound.to_channel); without it the name is shown as plain `@name`."""

    name: str
    person_id: int | None = None
    user_id: str | None = None  # Slack U…; Teams the 29:… id, else the AAD object id


@dataclass(frozen=True)
class Question:
    id: str  # the key of the answer in Command.form_values
    label: str
    multiline: bool = True
    value: str = ""  # prefilled answer (editing an earlier one)
    hint: str = ""
    # text | person | date | choice. A person answer arrives as a mention (`<@id|name>`, the form
    # every adapter rewrites its mentions to): a Slack user picker, a Teams people picker, `@name`
    # on the console. A date answer is a date phrase or YYYY-MM-DD (a date picker's value). A
    # choice answer is one of `choices`, picked (a Slack select, a Teams choice set, on the
    # console typed and asked again until it is one of them), never typed freely.
    kind: str = "text"
    choices: tuple[str, ...] = ()  # what a choice question offers, in order
    error: str = ""  # why its submitted answer was refused, shown beside it (Form.refused)


@dataclass(frozen=True)
class Form:
    """Questions the caller answers in one go: a Slack modal, an Adaptive Card with inputs,
    or questions in turn on the console. Submitting runs `submit_command` with the answers
    in `Command.form_values`."""

    title: str
    submit_command: str  # e.g. "sync submit S-3"
    questions: tuple[Question, ...]
    intro: str = ""
    submit_label: str = "Submit"

    @property
    def errors(self) -> dict[str, str]:
        """What is wrong with the answers of a refused submit, by question id; empty otherwise."""
        return {q.id: q.error for q in self.questions if q.error}

    def refused(self, values: Mapping[str, str], errors: Mapping[str, str]) -> Form:
        """This form again as it was submitted: every answer as typed (the good ones too) and
        the reason beside each refused one, to be fixed and submitted again."""
        return replace(self, questions=tuple(
            replace(q, value=values.get(q.id, q.value) or "", error=errors.get(q.id, "")) for q in self.questions))


# What a form refused field by field says above its answers (each reason is beside its field).
FIX_FORM = "Nothing was saved yet: fix the marked answers and submit again; the rest of what you typed is kept."


def card_lines(card: Card, *, section: bool = False) -> list[str]:
    """A card as plain lines: its title, its facts (`label: value`), then its text. As a section
    of a longer text the title ends in a colon and what follows it is indented."""
    indent = "  " if section else ""
    lines = [f"{card.title}:" if section else card.title]
    lines += [f"{indent}{fact.label}: {fact.value}" for fact in card.facts]
    lines += [f"{indent}{line}" if line else "" for line in card.text.splitlines()]
    return lines


@dataclass(frozen=True)
class Reply:
    text: str  # always complete on its own: the fallback for notifications and the console
    cards: tuple[Card, ...] = ()
    ok: bool = True  # False when the command was refused and nothing changed
    replace_source: bool = False  # replace the message whose button produced this reply
    repeated: bool = False  # the platform delivered this command before; nothing was done again
    form: Form | None = None  # open this form for the caller
    # the first this many cards are written out in `text` (Reply.of_cards): a text-only client
    # shows only their buttons
    cards_in_text: int = 0
    mentions: tuple[Mention, ...] = ()  # people the bot names in it, to notify them (see Mention)

    @classmethod
    def of_cards(cls, *cards: Card, sections: bool = False, then: str = "", more_cards: tuple[Card, ...] = (),
                 **fields: Any) -> Reply:
        """A reply whose text is its cards written out, so the two never say different things:
        the first card as a heading block, each next one after a blank line, as a section
        (`sections`: `title:` and its lines indented) or as a block like the first. `then` is
        more text after them; `more_cards` are cards whose content the text does not hold
        (a button per item, say)."""
        blocks = [card_lines(cards[0])] + [card_lines(card, section=sections) for card in cards[1:]]
        text = "\n\n".join("\n".join(block) for block in blocks) + (f"\n\n{then}" if then else "")
        return cls(text, cards=(*cards, *more_cards), cards_in_text=len(cards), **fields)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reply:
        cards = tuple(
            Card(
                title=c["title"],
                text=c.get("text", ""),
                facts=tuple(Fact(**f) for f in c.get("facts", ())),
                buttons=tuple(Button(**b) for b in c.get("buttons", ())),
            )
            for c in data.get("cards", ())
        )
        form = data.get("form")
        if form:
            form = Form(title=form["title"], submit_command=form["submit_command"],
                        questions=tuple(Question(**{**q, "choices": tuple(q.get("choices", ()))})
                                        for q in form.get("questions", ())),
                        intro=form.get("intro", ""), submit_label=form.get("submit_label", "Submit"))
        return cls(
            text=data["text"],
            cards=cards,
            ok=data.get("ok", True),
            replace_source=data.get("replace_source", False),
            repeated=data.get("repeated", False),
            form=form or None,
            cards_in_text=data.get("cards_in_text", 0),
            mentions=tuple(Mention(**m) for m in data.get("mentions", ())),
        )
