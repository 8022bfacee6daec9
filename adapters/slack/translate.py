"""Slack payloads → neutral Commands."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from handlers.kernel.model import Command


def obj(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else {}. Why: a signed but malformed payload (`"user": ""`,
    `"values": {"a": 1}`) raised AttributeError out of a listener, a 500."""
    return value if isinstance(value, Mapping) else {}


def text_of(value: Any) -> str:
    """`value` when it is a string, else "" (an id or name sent as a number, list or object)."""
    return value if isinstance(value, str) else ""


def _is_direct(channel_id: str | None, channel_name: str | None) -> bool:
    """A 1:1 chat with the bot: Slack's direct-message channel ids start with D."""
    return (channel_id or "").startswith("D") or channel_name == "directmessage"


# What Slack escapes in the text people type; `<@U1|name>`, `<!channel>` and `<url|label>` are its
# own markup, sent as is.
_ESCAPED = re.compile(r"&lt;@|&lt;|&gt;|&amp;")
_TYPED = {"&lt;@": "<\u2060@", "&lt;": "<", "&gt;": ">", "&amp;": "&"}


def typed_text(text: str) -> str:
    """A slash command's text as the person typed it: Slack sends a typed `&`, `<` and `>` as
    `&amp;`, `&lt;` and `&gt;`. A `<` typed before `@` is kept apart from it by a word joiner
    (U+2060, invisible), so that `<@U1|name>` typed as text is never read as a mention (of
    anyone, under a name of the typist's choice). The renderers escape what they must again."""
    return _ESCAPED.sub(lambda m: _TYPED[m.group(0)], text)


def user_team(body: Mapping[str, Any]) -> str:
    """The workspace of the person who clicked or submitted (block_actions, view_submission):
    `user.team_id`. Why not `team.id`: in a channel shared by two companies (Slack Connect) it
    is the workspace whose installation posted the message, not the clicker's own."""
    return text_of(obj(body.get("user")).get("team_id")) or text_of(obj(body.get("team")).get("id"))


def from_slash_command(payload: Mapping[str, Any], timezone: str | None) -> Command:
    team = payload.get("team_id") or ""
    trigger = payload.get("trigger_id")
    return Command(
        platform="slack", workspace=team, user=payload.get("user_id") or "",
        user_name=payload.get("user_name"), text=typed_text(payload.get("text") or "").strip(),
        channel=payload.get("channel_id"), platform_timezone=timezone,
        is_direct=_is_direct(payload.get("channel_id"), payload.get("channel_name")),
        delivery_id=f"slack:{team}:{trigger}" if trigger else None, raw=payload,
    )


def from_button(body: Mapping[str, Any], timezone: str | None) -> Command:
    actions = body.get("actions")
    action = obj(actions[0]) if isinstance(actions, list) and actions else {}
    user = obj(body.get("user"))
    team = user_team(body)
    trigger = text_of(body.get("trigger_id"))
    channel = obj(body.get("channel"))
    channel_id = text_of(obj(body.get("container")).get("channel_id")) or text_of(channel.get("id")) or None
    return Command(
        platform="slack", workspace=team, user=text_of(user.get("id")),
        user_name=text_of(user.get("username")) or text_of(user.get("name")) or None,
        text=text_of(action.get("value")),
        channel=channel_id, platform_timezone=timezone, from_button=True,
        is_direct=_is_direct(channel_id, text_of(channel.get("name"))) or clicked_in_home(body),
        delivery_id=f"slack:{team}:{trigger}:{action.get('action_id')}" if trigger else None, raw=body,
    )


HOME_COMMAND = "report me"  # what the Home tab shows: the person's scorecard and open items


def from_home_opened(body: Mapping[str, Any], timezone: str | None) -> Command:
    """Opening the Home tab reads as `report me`; the event_id deduplicates Slack's retries."""
    team = text_of(body.get("team_id"))
    event = obj(body.get("event"))
    return Command(
        platform="slack", workspace=team, user=text_of(event.get("user")), text=HOME_COMMAND,
        platform_timezone=timezone, is_direct=True,  # the Home tab is the person's own
        # no event_id, no deduplication (rather than every such event sharing the id "None")
        delivery_id=f"slack:{team}:event:{event_id}" if (event_id := text_of(body.get("event_id"))) else None,
        raw=body,
    )


def home_refresh(clicked: Command) -> Command:
    """The Home tab again after a click on one of its buttons (a new read, nothing to deduplicate)."""
    return Command(platform="slack", workspace=clicked.workspace, user=clicked.user, text=HOME_COMMAND,
                   user_name=clicked.user_name, platform_timezone=clicked.platform_timezone, is_direct=True)


def clicked_in_home(body: Mapping[str, Any]) -> bool:
    """A button of the Home tab (Slack sends the view it sits in, and no channel)."""
    return obj(body.get("container")).get("type") == "view" and obj(body.get("view")).get("type") == "home"


def _answer(action: Mapping[str, Any]) -> str | None:
    """One input's answer from a view's state (each kind keeps it under its own key, null when
    left empty): a picked user as the neutral mention `<@U…>`, a picked date as YYYY-MM-DD, a
    picked choice as its value;
    None for an element that is not one of our questions' inputs."""
    kind = action.get("type")
    if kind == "plain_text_input":
        return text_of(action.get("value"))  # a number or object here is no answer: handlers get text
    if kind == "users_select":
        user = action.get("selected_user")
        return f"<@{user}>" if isinstance(user, str) and user else ""
    if kind == "datepicker":
        day = action.get("selected_date")
        return day if isinstance(day, str) else ""
    if kind == "static_select":  # a picked choice: its option's value
        return text_of(obj(action.get("selected_option")).get("value"))
    return None


def picked_users(body: Mapping[str, Any]) -> list[str]:
    """The user ids picked in a submitted modal's user pickers, to look their names up."""
    values = obj(obj(obj(body.get("view")).get("state")).get("values"))
    return [action["selected_user"] for actions in values.values() for action in map(obj, obj(actions).values())
            if action.get("type") == "users_select" and isinstance(action.get("selected_user"), str)
            and action["selected_user"]]


def from_view_submission(body: Mapping[str, Any], timezone: str | None) -> Command | None:
    """A submitted form modal as the command it stands for, with the answers keyed by question
    id (an input left empty, or missing from the state, is ""); None when the modal's
    private_metadata does not carry its command. The picked people's names are not in the
    payload: the caller adds them (`mention_names`) when it can look them up."""
    view = obj(body.get("view"))
    try:
        meta = json.loads(text_of(view.get("private_metadata")))
    except ValueError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("command"), str) or not meta["command"].strip():
        return None
    blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else ()
    answers = {block["block_id"]: "" for block in map(obj, blocks)
               if block.get("type") == "input" and text_of(block.get("block_id"))}
    for block_id, actions in obj(obj(view.get("state")).get("values")).items():
        for action in obj(actions).values():
            answer = _answer(obj(action))
            if answer is not None:
                answers[block_id] = answer
    user = obj(body.get("user"))
    team = user_team(body)
    trigger = text_of(body.get("trigger_id"))
    channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    return Command(
        platform="slack", workspace=team, user=text_of(user.get("id")),
        user_name=text_of(user.get("username")) or text_of(user.get("name")) or None, text=meta["command"].strip(),
        channel=channel, platform_timezone=timezone, is_direct=bool(meta.get("direct")),
        form_values=answers, delivery_id=f"slack:{team}:{trigger}" if trigger else None, raw=body,
    )
