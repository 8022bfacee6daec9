"""Slack payloads → neutral Commands."""
from __future__ import annotations

from typing import Any, Mapping

from handlers.model import Command


def from_slash_command(payload: Mapping[str, Any], timezone: str | None) -> Command:
    team = payload.get("team_id") or ""
    trigger = payload.get("trigger_id")
    return Command(
        platform="slack", workspace=team, user=payload.get("user_id") or "",
        user_name=payload.get("user_name"), text=(payload.get("text") or "").strip(),
        channel=payload.get("channel_id"), platform_timezone=timezone,
        delivery_id=f"slack:{team}:{trigger}" if trigger else None, raw=payload,
    )


def from_button(body: Mapping[str, Any], timezone: str | None) -> Command:
    action = body["actions"][0]
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    trigger = body.get("trigger_id")
    return Command(
        platform="slack", workspace=team, user=user.get("id") or "",
        user_name=user.get("username") or user.get("name"), text=str(action.get("value") or ""),
        channel=(body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id"),
        platform_timezone=timezone, from_button=True,
        delivery_id=f"slack:{team}:{trigger}:{action.get('action_id')}" if trigger else None, raw=body,
    )


def from_home_opened(body: Mapping[str, Any], timezone: str | None) -> Command:
    """Opening the Home tab reads as `list mine`; the event_id deduplicates Slack's retries."""
    team = body.get("team_id") or ""
    event = body.get("event") or {}
    return Command(
        platform="slack", workspace=team, user=event.get("user") or "", text="list mine",
        platform_timezone=timezone, delivery_id=f"slack:{team}:event:{body.get('event_id')}", raw=body,
    )
