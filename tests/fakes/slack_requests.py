"""Slack requests as Slack sends them: form-encoded, signed with the signing secret."""
from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"


def signed_headers(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"}


def slash_body(text: str, user: str = "U1", team: str = "T1", channel: str = "C1", user_name: str | None = None,
               channel_name: str | None = None) -> str:
    return urlencode({
        "token": "legacy", "team_id": team, "team_domain": "test", "channel_id": channel,
        "channel_name": channel_name or ("directmessage" if channel.startswith("D") else "general"),
        "user_id": user, "user_name": user_name or user.lower(),
        "command": "/partner", "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.invalid/commands/1", "trigger_id": uuid.uuid4().hex,
    })


def button_body(value: str, user: str, channel: str, message_ts: str, team: str = "T1",
                action_id: str = "pb:0:0", user_team: str | None = None) -> str:
    """A click on a button of a message. `team` is the workspace whose installation posted it;
    `user_team` the clicker's own when it is another (a Slack Connect channel), as Slack sends
    them: `team.id` and `user.team_id`."""
    payload = {
        "type": "block_actions", "team": {"id": team, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": user_team or team},
        "api_app_id": "A1", "token": "legacy", "trigger_id": uuid.uuid4().hex,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "Accept"}, "action_ts": str(time.time())}],
    }
    return urlencode({"payload": json.dumps(payload)})


def home_button_body(value: str, user: str, team: str = "T1", action_id: str = "pb:1:0") -> str:
    """A click on a button of the App Home tab: Slack sends the view it sits in, and no channel."""
    payload = {
        "type": "block_actions", "team": {"id": team, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A1", "token": "legacy", "trigger_id": uuid.uuid4().hex,
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "team_id": team, "blocks": [], "private_metadata": "",
                 "callback_id": "", "state": {"values": {}}, "hash": uuid.uuid4().hex[:16]},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "Done"}, "action_ts": str(time.time())}],
    }
    return urlencode({"payload": json.dumps(payload)})


# Where view.state keeps each element's answer, and where the element keeps its prefilled one.
_STATE_KEYS = {"users_select": ("selected_user", "initial_user"), "datepicker": ("selected_date", "initial_date"),
               "static_select": ("selected_option", "initial_option")}


def view_submission_body(view: dict, answers: dict[str, str | None], user: str = "U1", team: str = "T1",
                         view_id: str = "V1") -> str:
    """A modal submitted, as Slack posts it: `view` as the app opened it (views.open's `view`),
    each input's value from `answers` by block id (else what the field started with; an empty
    input is null, as Slack sends it). A text input's answer is its `value`, a user picker's
    its `selected_user` (a user id), a date picker's its `selected_date` (YYYY-MM-DD), a select's
    its `selected_option` (the option whose value the answer is: a select offers nothing else)."""
    values = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        key, initial = _STATE_KEYS.get(element["type"], ("value", "initial_value"))
        value = answers.get(block["block_id"], element.get(initial))
        if element["type"] == "static_select" and isinstance(value, str):  # picked: the option itself
            value = next((o for o in element["options"] if o["value"] == value), None)
            assert value, f"{answers[block['block_id']]!r} is not an option of {block['block_id']}"
        values[block["block_id"]] = {element["action_id"]: {"type": element["type"], key: value or None}}
    payload = {
        "type": "view_submission", "team": {"id": team, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "api_app_id": "A1", "token": "legacy", "trigger_id": uuid.uuid4().hex,
        "view": {**view, "id": view_id, "team_id": team, "app_id": "A1", "bot_id": "BBOT",
                 "hash": uuid.uuid4().hex[:16], "state": {"values": values}},
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict, event_id: str, team: str = "T1") -> str:
    """An Events API callback, as JSON (signed like every other Slack request)."""
    return json.dumps({
        "token": "legacy", "team_id": team, "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()), "event": event,
    })


def json_headers(body: str, **kw) -> dict:
    return {**signed_headers(body, **kw), "Content-Type": "application/json"}
