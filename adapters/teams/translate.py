"""Bot Framework activities (wire JSON) → neutral Commands.

Works on the JSON, not botbuilder's classes, so a move to Microsoft's Agents SDK
touches only app.py.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from adapters.teams.render import FORM_KEYS
from handlers.kernel.model import Account, Command

PLATFORM = "teams"
_PREFIX = re.compile(r"^/?partner\b\s*", re.IGNORECASE)
_TAG = re.compile(r"<(?!@)[^>]*>")  # HTML formatting Teams adds; keeps our <@id|name> mentions
_NOT_IN_A_NAME = re.compile(r"[<>|]")  # what the name in a mention token <@id|name> keeps none of
_TYPED_MENTION = re.compile(r"<(?=@)")  # `<@` in typed text, where it would read as a mention


# Why: an activity with a field of the wrong JSON type (`"channelData": "0"`, `"from": []`)
# raised AttributeError out of the turn: every field is read through these two.
def _obj(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else {}."""
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    """`value` when it is a string, else ""."""
    return value if isinstance(value, str) else ""


def tenant_of(activity: Mapping[str, Any]) -> str:
    conversation = _obj(activity.get("conversation"))
    channel_data = _obj(activity.get("channelData"))
    return _str(conversation.get("tenantId")) or _str(_obj(channel_data.get("tenant")).get("id"))


def user_of(account: Mapping[str, Any]) -> str:
    """A person's Teams identity: their Entra (AAD) object id, else the channel account id."""
    account = _obj(account)
    return _str(account.get("aadObjectId")) or _str(account.get("id"))


def account_of(account: Mapping[str, Any]) -> Account:
    """The rest of what an account (`from`, a roster member) says: the 29:… id beside the AAD
    object id, and an email (the roster's; its user principal name is the sign-in address)."""
    account = _obj(account)
    teams_user_id = _str(account.get("id"))
    return Account(other_id=teams_user_id if teams_user_id and teams_user_id != user_of(account) else None,
                   email=_str(account.get("email")) or _str(account.get("userPrincipalName")) or None)


def to_look_up(activity: Mapping[str, Any]) -> list[str]:
    """The ids the roster should be asked about: people mentioned (by their 29:… id: Teams sends
    no AAD object id in a mention) and people picked in a form (by AAD object id)."""
    bot_id = _obj(activity.get("recipient")).get("id")
    ids = [_str(_obj(e.get("mentioned")).get("id")) for e in map(_obj, _entities(activity))
           if e.get("type") == "mention"]
    value = activity.get("value")
    if isinstance(value, Mapping) and value.get("pb_form") and isinstance(value.get("pb_people"), list):
        ids += [_str(value.get(str(q))).strip() for q in value["pb_people"]]
    return [i for i in ids if i and i != bot_id and _AAD_ID.match(i)]


def timezone_of(activity: Mapping[str, Any]) -> str | None:
    if _str(activity.get("localTimezone")):
        return activity["localTimezone"]
    for entity in map(_obj, _entities(activity)):
        if entity.get("type") == "clientInfo" and _str(entity.get("timezone")):
            return entity["timezone"]
    return None


def _entities(activity: Mapping[str, Any]) -> list:
    entities = activity.get("entities")
    return entities if isinstance(entities, list) else []


def conversation_reference(activity: Mapping[str, Any]) -> dict:
    """What a later proactive message needs: where to post and as whom. No activity id: it
    changes with every message and would rewrite the stored reference each time."""
    return {
        "user": activity.get("from"),
        "bot": activity.get("recipient"),
        "conversation": activity.get("conversation"),
        "channelId": activity.get("channelId"),
        "locale": activity.get("locale"),
        "serviceUrl": activity.get("serviceUrl"),
    }


def _command_text(activity: Mapping[str, Any], roster: Mapping[str, Mapping]
                  ) -> tuple[str, dict[str, str], dict[str, Account]]:
    """The text with the bot's mention removed and people's mentions as <@id|name>: the id is
    the AAD object id when the roster gave it, else the 29:… id the mention carries."""
    # What the person typed and our mention tokens, apart: only the typed parts are HTML (Teams
    # sends `<` as `&lt;`) to strip and unescape, so an unescaped `<@…>` is never read as a mention.
    parts: list[tuple[str, bool]] = [(_str(activity.get("text")), True)]  # (text, typed)
    bot_id = _obj(activity.get("recipient")).get("id")
    names: dict[str, str] = {}
    accounts: dict[str, Account] = {}
    for entity in map(_obj, _entities(activity)):
        if entity.get("type") != "mention":
            continue
        mentioned = _obj(entity.get("mentioned"))
        shown = _str(entity.get("text")) or f"<at>{_str(mentioned.get('name'))}</at>"
        if mentioned.get("id") == bot_id:
            token = " "
        else:
            # Why only the roster's word: a mention entity is composed by the sender's client, so
            # an aadObjectId in it could tie someone else's 29:… id to the sender's choice of person
            mentioned_id = _str(mentioned.get("id"))
            member = _obj(roster.get(mentioned_id))
            person = user_of(member) or mentioned_id
            name = " ".join(_NOT_IN_A_NAME.sub(" ", _str(mentioned.get("name"))).split())
            names[person] = name
            accounts[person] = replace(account_of(member), other_id=mentioned_id if person != mentioned_id else None)
            token = f"<@{person}|{name}>"
        parts = _replace_first(parts, shown, token)
    text = "".join(_typed(part) if typed else part for part, typed in parts)
    text = " ".join(text.split())
    return _PREFIX.sub("", text, count=1), names, accounts


def _replace_first(parts: list[tuple[str, bool]], shown: str, token: str) -> list[tuple[str, bool]]:
    """`parts` with the first typed occurrence of `shown` (a mention's `<at>…</at>`) as `token`."""
    for i, (part, typed) in enumerate(parts):
        if typed and shown and shown in part:
            before, _, after = part.partition(shown)
            return [*parts[:i], (before, True), (token, False), (after, True), *parts[i + 1:]]
    return parts


def _typed(html_text: str) -> str:
    """Typed text as the person sees it: tags Teams adds removed, entities unescaped, and a `<`
    typed before `@` kept apart from it by a word joiner (U+2060, invisible), so that `<@id|name>`
    typed as text is never read as a mention (of anyone, under a name of the typist's choice).
    What else the text holds (`<!channel>`) is plain text: each renderer escapes it."""
    return _TYPED_MENTION.sub("<\u2060", html.unescape(_TAG.sub(" ", html_text)))


def channel_of(activity: Mapping[str, Any]) -> str | None:
    """Where the message was typed. In a Teams channel each message arrives in the conversation
    of its post (`19:…@thread.tacv2;messageid=…`): the channel is channelData.channel.id, so a
    channel is one channel whichever post a command was typed in."""
    conversation = _obj(activity.get("conversation"))
    if conversation.get("conversationType") != "channel":
        return _str(conversation.get("id")) or None
    channel_data = _obj(activity.get("channelData"))
    channel = _str(_obj(channel_data.get("channel")).get("id")) or _str(channel_data.get("teamsChannelId"))
    return channel or _str(conversation.get("id")).split(";messageid=", 1)[0] or None


def is_direct(activity: Mapping[str, Any]) -> bool:
    """A 1:1 chat with the bot (not a channel or group chat)."""
    conversation = _obj(activity.get("conversation"))
    kind = conversation.get("conversationType") or ("groupChat" if conversation.get("isGroup") else "personal")
    return kind == "personal"


_AAD_ID = re.compile(r"^[A-Za-z0-9._:\-]+$")  # what fits in a mention token <@id>


def form_values(value: Mapping[str, Any]) -> dict[str, str] | None:
    """The answers of a submitted form card: every input's value by its id (an input Teams left
    out, as it may an empty one, is ""); None when the submit is not a form's. A person
    question's people picker submits the AAD object id: it becomes the mention `<@id>`
    (`<@id|name>` when the card knew the name, i.e. the person was prefilled)."""
    if not value.get("pb_form"):
        return None
    inputs = value.get("pb_inputs")
    answers = {str(i): "" for i in inputs if str(i) not in FORM_KEYS} if isinstance(inputs, list) else {}
    answers.update({k: v for k, v in value.items() if k not in FORM_KEYS and isinstance(v, str)})
    names = _form_names(value)
    people = value.get("pb_people")
    for question in people if isinstance(people, list) else ():
        picked = answers.get(str(question), "").strip()
        if _AAD_ID.match(picked):  # anything else is passed on as typed, for the handler to refuse
            name = names.get(picked, "").replace("|", " ").replace(">", " ")
            answers[str(question)] = f"<@{picked}|{name}>" if name else f"<@{picked}>"
    return answers


def _form_names(value: Mapping[str, Any]) -> dict[str, str]:
    """Names of the people a form card was prefilled with, by AAD object id."""
    names = value.get("pb_names")
    if not isinstance(names, Mapping):
        return {}
    return {str(k): v for k, v in names.items() if isinstance(v, str) and v}


def from_activity(activity: Mapping[str, Any], roster: Mapping[str, Mapping] | None = None) -> Command | None:
    """A message, button click or form submit as a Command (an empty message reads as `help`);
    None for a card submit that does not carry its command. `roster` has the roster's account of
    the ids `to_look_up` named, where it knew them."""
    roster = roster or {}
    value = activity.get("value")
    from_button = isinstance(value, Mapping) and isinstance(value.get("command"), str)
    answers = None
    accounts: dict[str, Account] = {}
    if from_button:
        answers = form_values(value)
        text, names = value["command"].strip(), (_form_names(value) if answers is not None else {})
        # a picked person is named by AAD object id: the roster adds their 29:… id and email
        accounts = {picked: account_of(member) for picked, member in roster.items()
                    if user_of(member) == picked}
    elif isinstance(value, Mapping):
        return None
    else:
        text, names, accounts = _command_text(activity, roster)
    sender = _obj(activity.get("from"))
    accounts[user_of(sender)] = account_of(sender)
    return Command(
        platform=PLATFORM, workspace=tenant_of(activity), user=user_of(sender),
        user_name=_str(sender.get("name")) or None, text=text, channel=channel_of(activity),
        platform_timezone=timezone_of(activity), mention_names=names, accounts=accounts, from_button=from_button,
        is_direct=is_direct(activity), form_values=answers, delivery_id=_delivery_id(activity),
        contact=conversation_reference(activity), channel_contact=_channel_contact(activity), raw=activity,
    )


def _delivery_id(activity: Mapping[str, Any]) -> str | None:
    """Activity ids are unique within a conversation: together they spot a redelivery."""
    conversation = _str(_obj(activity.get("conversation")).get("id"))
    return f"teams:{conversation}:{activity['id']}" if _str(activity.get("id")) and conversation else None


def contact_only(activity: Mapping[str, Any]) -> Command | None:
    """The sender of a non-command activity (the bot installed, a member added), to save how
    to reach them: their first contact releases messages that waited for it."""
    sender = _obj(activity.get("from"))
    if not user_of(sender) or not tenant_of(activity):
        return None
    return Command(platform=PLATFORM, workspace=tenant_of(activity), user=user_of(sender),
                   user_name=_str(sender.get("name")) or None, text="", channel=channel_of(activity),
                   accounts={user_of(sender): account_of(sender)},
                   is_direct=is_direct(activity), contact=conversation_reference(activity),
                   channel_contact=_channel_contact(activity),
                   raw=activity)


def _channel_contact(activity: Mapping[str, Any]) -> dict | None:
    """A channel's or group chat's reference, kept to post there later; None in a 1:1 chat.
    A channel's is the channel's own conversation, not the post the message was in: what is
    posted later starts a post of its own instead of replying in that old thread."""
    conversation = _obj(activity.get("conversation"))
    if conversation.get("conversationType", "personal") == "personal":
        return None
    reference = conversation_reference(activity)
    reference["conversation"] = {**conversation, "id": channel_of(activity)}
    return reference
