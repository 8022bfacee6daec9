"""Settings: built-in defaults, overridden by app.yaml, overridden by PARTNERBOT_* env vars.

Secrets and deployment values (tokens, DATABASE_URL, HOST/PORT…) are read from the
environment only, so they can never be committed in app.yaml. Every value is checked at
start and read by the code through typed sections (`settings.cadence.peer_sync.time`,
handlers/kernel/settings.py), never by a string path.
"""
from __future__ import annotations

import copy
import logging
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

from adapters.teams.trust import MICROSOFT_HOSTS, is_loopback, pattern_error
from handlers.kernel.settings import CadenceSettings, CreditSettings, RetentionSettings

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "timezone": "UTC",
    # "platform:workspace:user id" of admins beyond the platform's own (Teams has none without Graph)
    "admins": [],
    # "platform:workspace:user id" of executives: their dashboard sees the whole workspace, as admins' does
    "executives": [],
    "cadence": {
        "tick_seconds": 60,
        "peer_sync": {"weekday": "mon", "time": "09:00", "nudge_after_hours": 24, "max_nudges": 2},
        "commitments": {"due_time": "17:00", "remind_before_hours": 24},
        "meetings": {"nudge_hours": 24, "default_minutes": 60, "quiet_from": "20:00", "quiet_until": "08:00"},
        "handoffs": {"accept_within_hours": 48, "stale_after_days": 14},
        "asks": {"nudge_after_hours": 24, "escalate_after_hours": 72},
        "pulse": {"day": "mon", "close_after_days": 3, "min_answers": 3},
    },
    "credit": {"originator": 0.3, "deliverer": 0.5, "contributors": 0.2},
    # the tick forgets platform delivery ids after this (Slack retries come within minutes)
    "retention": {"processed_delivery_days": 7},
    "outbox": {"poll_seconds": 1.0, "max_attempts": 12, "lease_seconds": 60.0, "slack_channel_seconds": 1.0},
    # the Teams endpoint: open without MICROSOFT_APP_ID only on loopback; where replies may go; who may talk
    "teams": {"unauthenticated": False, "service_url_hosts": list(MICROSOFT_HOSTS), "tenants": []},
    # the CRM's stage for each of ours (handlers/crm): empty is the CRM's default pipeline's (operator guide);
    # the workspaces ("slack:T…", "teams:<tenant id>") whose records go out to it: empty, every one
    "crm": {"stages": {stage: "" for stage in ("open", "identified", "introduced", "positioned", "delivered",
                                               "won", "lost")},
            "workspaces": []},
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ENV_PREFIX = "PARTNERBOT_"
# PARTNERBOT_* variables that are not settings paths.
_NOT_SETTINGS = {"PARTNERBOT_CONFIG"}


class ConfigError(ValueError):
    """A setting has a value of the wrong kind; raised at start, never at run time."""


def _merge(base: dict, override: Mapping, where: str) -> None:
    for key, value in override.items():
        path = f"{where}{key}"
        if key not in base:
            raise ConfigError(f"unknown setting '{path}'")
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"setting '{path}' must be a mapping")
            _merge(base[key], value, path + ".")
        else:
            base[key] = _coerce(base[key], value, path)


def _coerce(default: Any, value: Any, path: str) -> Any:
    """Give an override the type of its default (env vars arrive as strings; a list, comma-separated)."""
    if isinstance(default, list):
        if value is None:  # `tenants:` left empty in YAML
            return []
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or any(isinstance(item, (dict, list)) for item in items):
            raise ConfigError(f"setting '{path}' must be a list (comma-separated in the environment), got {value!r}")
        return [text for item in items if (text := str(item).strip())]
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting '{path}' must be a {type(default).__name__}, got {value!r}") from None


def _env_overrides(environ: Mapping[str, str]) -> dict:
    tree: dict = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS:
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


@dataclass(frozen=True)
class OutboxSettings:
    """The outbox sender's (bot/outbox.py)."""

    poll_seconds: float
    max_attempts: int
    lease_seconds: float
    slack_channel_seconds: float


@dataclass(frozen=True)
class TeamsSettings:
    """The Teams endpoint's trust (adapters/teams/trust.py)."""

    unauthenticated: bool  # serve /api/messages without MICROSOFT_APP_ID (loopback HOST only)
    service_url_hosts: tuple[str, ...]
    tenants: tuple[str, ...]  # empty: any tenant

    def __post_init__(self) -> None:  # lists from the settings tree, kept immutable like the rest
        object.__setattr__(self, "service_url_hosts", tuple(self.service_url_hosts))
        object.__setattr__(self, "tenants", tuple(self.tenants))


def _section(cls: type, values: Mapping) -> Any:
    """A typed section (a frozen dataclass) from its part of the settings tree."""
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _section(hints[f.name], values[f.name]) if is_dataclass(hints[f.name]) else values[f.name]
                  for f in fields(cls)})


def default_public_url(host: str, port: int) -> str:
    """Where a browser reaches `serve` when PUBLIC_URL is not set: on its own port; at
    `localhost` when it listens on a loopback or every address (0.0.0.0, ::), which a browser
    cannot open; else at the one address it listens on."""
    bare = host.strip().removeprefix("[").removesuffix("]")
    if bare in ("", "0.0.0.0", "::") or is_loopback(bare):
        bare = "localhost"
    return f"http://{f'[{bare}]' if ':' in bare else bare}:{port}"


@dataclass(frozen=True)
class Settings:
    values: dict = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    database_url: str = "sqlite+aiosqlite:///partnerbot.db"
    host: str = "127.0.0.1"  # behind a TLS reverse proxy in production: HOST=0.0.0.0
    port: int = 3978
    public_url: str = "http://localhost:3978"
    slack_signing_secret: str | None = None
    slack_bot_token: str | None = None  # one workspace
    slack_client_id: str | None = None  # with the secret: any number of workspaces, installed by OAuth
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    microsoft_app_id: str = ""  # empty: no Teams endpoint, unless teams.unauthenticated (local testing)
    microsoft_app_password: str = ""
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: str = "MultiTenant"
    # the CRM leads, handoffs and wins go out to (handlers/crm): HubSpot, with an access token
    hubspot_access_token: str | None = None
    hubspot_api_url: str = "https://api.hubapi.com"
    salesforce_instance_url: str | None = None  # or Salesforce: its instance and an OAuth access token,
    salesforce_access_token: str | None = None
    salesforce_username: str | None = None  # or its integration user's login (then renewed when it expires)
    salesforce_password: str | None = None
    salesforce_security_token: str = ""
    salesforce_login_url: str = "https://login.salesforce.com"  # a sandbox: test.salesforce.com; or My Domain

    def __post_init__(self) -> None:
        # the typed sections, built once from the checked values (frozen: set past __setattr__)
        object.__setattr__(self, "cadence", _section(CadenceSettings, self.values["cadence"]))
        object.__setattr__(self, "credit", _section(CreditSettings, self.values["credit"]))
        object.__setattr__(self, "retention", _section(RetentionSettings, self.values["retention"]))
        object.__setattr__(self, "outbox", _section(OutboxSettings, self.values["outbox"]))
        object.__setattr__(self, "teams", _section(TeamsSettings, self.values["teams"]))

    cadence: CadenceSettings = field(init=False, repr=False, compare=False)
    credit: CreditSettings = field(init=False, repr=False, compare=False)
    retention: RetentionSettings = field(init=False, repr=False, compare=False)
    outbox: OutboxSettings = field(init=False, repr=False, compare=False)
    teams: TeamsSettings = field(init=False, repr=False, compare=False)

    def get(self, path: str) -> Any:
        """The value at a dotted path, as loaded: for messages about a setting and for tests of
        loading. Code reads the typed sections instead."""
        return _at(self.values, path)

    @property
    def timezone(self) -> str:
        return self.values["timezone"]

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(self.values["admins"])

    @property
    def executives(self) -> frozenset[str]:
        return frozenset(self.values["executives"])

    @property
    def crm_stages(self) -> dict[str, str]:
        """Our stages the operator mapped to their CRM's own (the others keep the default pipeline's)."""
        return {ours: theirs for ours, theirs in self.values["crm"]["stages"].items() if theirs}

    @property
    def crm_workspaces(self) -> frozenset[str]:
        """"platform:workspace" of the workspaces whose records go out to the CRM; empty: all."""
        return frozenset(self.values["crm"]["workspaces"] or ())

    @property
    def crm_provider(self) -> str | None:
        """The CRM every workspace's leads, handoffs and wins go out to; None: none connected."""
        if self.salesforce_access_token or self.salesforce_username:
            return "salesforce"
        return "hubspot" if self.hubspot_access_token else None

    @property
    def platform_credentials(self) -> bool:
        """Slack or Teams credentials are set: `partnerbot` alone then serves instead of chatting."""
        return self.slack_enabled or bool(self.microsoft_app_id)

    @property
    def teams_enabled(self) -> bool:
        """POST /api/messages is served: authenticated with an app id, or open on loopback by choice."""
        return bool(self.microsoft_app_id) or self.teams.unauthenticated

    @property
    def teams_unauthenticated(self) -> bool:
        """The Teams endpoint takes activities without a Bot Framework token."""
        return self.teams.unauthenticated and not self.microsoft_app_id

    @property
    def slack_enabled(self) -> bool:
        """/slack/events is served: for one workspace (its bot token) or for every one that installs the app."""
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_multi_workspace))

    @property
    def slack_multi_workspace(self) -> bool:
        """Slack's OAuth app credentials are set: `serve` offers /slack/install, and each workspace's
        bot token comes from its installation (load_settings refuses them beside SLACK_BOT_TOKEN)."""
        return bool(self.slack_signing_secret and self.slack_client_id and self.slack_client_secret)

    def __repr__(self) -> str:  # never print secrets
        return (f"Settings(database_url={_redact(self.database_url)!r}, slack_enabled={self.slack_enabled}, "
                f"microsoft_app_id={self.microsoft_app_id!r})")


def _redact(url: str) -> str:
    """Hide a password in a database URL before it is logged."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values = copy.deepcopy(DEFAULTS)
    path = Path(env.get("PARTNERBOT_CONFIG", "app.yaml"))
    if path.exists():
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, Mapping):
            raise ConfigError(f"{path} must hold a mapping of settings")
        _merge(values, loaded, "")
    elif "PARTNERBOT_CONFIG" in env:
        raise ConfigError(f"PARTNERBOT_CONFIG names {path}, which does not exist")
    _merge(values, _env_overrides(env), "")
    _validate(values)
    host = env.get("HOST") or "127.0.0.1"
    port = int(env.get("PORT") or 3978)
    if values["teams"]["unauthenticated"] and not is_loopback(host):
        # why: without a token anyone who reaches the port can act as anyone in Teams
        raise ConfigError(f"setting 'teams.unauthenticated' is refused unless HOST is a loopback address "
                          f"(127.0.0.1, ::1, localhost), got HOST={host}")
    _check_slack_mode(env)
    _check_crm(env)
    for named in values["crm"]["workspaces"]:
        if named.partition(":")[0] not in ("slack", "teams", "console") or not named.partition(":")[2]:
            raise ConfigError(f"setting 'crm.workspaces' lists workspaces as platform:id (slack:T0123, "
                              f"teams:<tenant id>), got {named!r}")
    return Settings(
        values=values,
        database_url=env.get("DATABASE_URL") or "sqlite+aiosqlite:///partnerbot.db",
        host=host,
        port=port,
        public_url=(env.get("PUBLIC_URL") or default_public_url(host, port)).rstrip("/"),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_client_id=env.get("SLACK_CLIENT_ID") or None,
        slack_client_secret=env.get("SLACK_CLIENT_SECRET") or None,
        slack_api_url=env.get("SLACK_API_URL") or "https://slack.com/api/",
        microsoft_app_id=env.get("MICROSOFT_APP_ID") or "",
        microsoft_app_password=env.get("MICROSOFT_APP_PASSWORD") or "",
        microsoft_app_tenant_id=env.get("MICROSOFT_APP_TENANT_ID") or "",
        microsoft_app_type=_microsoft_app_type(env),
        hubspot_access_token=env.get("HUBSPOT_ACCESS_TOKEN") or None,
        hubspot_api_url=(env.get("HUBSPOT_API_URL") or "https://api.hubapi.com").rstrip("/"),
        salesforce_instance_url=(env.get("SALESFORCE_INSTANCE_URL") or "").rstrip("/") or None,
        salesforce_access_token=env.get("SALESFORCE_ACCESS_TOKEN") or None,
        salesforce_username=env.get("SALESFORCE_USERNAME") or None,
        salesforce_password=env.get("SALESFORCE_PASSWORD") or None,
        salesforce_security_token=env.get("SALESFORCE_SECURITY_TOKEN") or "",
        salesforce_login_url=(env.get("SALESFORCE_LOGIN_URL") or "https://login.salesforce.com").rstrip("/"),
    )


def _check_crm(env: Mapping[str, str]) -> None:
    """One CRM: HubSpot (HUBSPOT_ACCESS_TOKEN) or Salesforce, reached with its instance URL and an
    access token, or with its integration user's login (which also renews an expired token)."""
    pairs = (("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN", "its instance URL and an access token"),
             ("SALESFORCE_USERNAME", "SALESFORCE_PASSWORD", "its integration user's username and password"))
    for first, second, what in pairs:
        given = [name for name in (first, second) if env.get(name)]
        if len(given) == 1:
            missing = ({first, second} - set(given)).pop()
            raise ConfigError(f"{given[0]} needs {missing} too (Salesforce: {what})")
    if env.get("SALESFORCE_SECURITY_TOKEN") and not env.get("SALESFORCE_USERNAME"):
        raise ConfigError("SALESFORCE_SECURITY_TOKEN needs SALESFORCE_USERNAME and SALESFORCE_PASSWORD too")
    salesforce = any(env.get(name) for name in ("SALESFORCE_ACCESS_TOKEN", "SALESFORCE_USERNAME"))
    if salesforce and env.get("HUBSPOT_ACCESS_TOKEN"):
        raise ConfigError("set either HubSpot (HUBSPOT_ACCESS_TOKEN) or Salesforce (SALESFORCE_*), not both: one CRM")
    for name in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_LOGIN_URL"):
        url = env.get(name)
        if url and not url.startswith("https://"):
            raise ConfigError(f"{name} must be https://…, got {url!r}")


def _microsoft_app_type(env: Mapping[str, str]) -> str:
    """Single-tenant when a tenant id is given (what Azure creates for a new bot since 31 July
    2025); MultiTenant only for a bot registered so before, which has no tenant id to give."""
    tenant = env.get("MICROSOFT_APP_TENANT_ID")
    app_type = env.get("MICROSOFT_APP_TYPE") or ("SingleTenant" if tenant else "MultiTenant")
    if app_type not in ("SingleTenant", "MultiTenant", "UserAssignedMSI"):
        raise ConfigError(f"MICROSOFT_APP_TYPE must be SingleTenant, MultiTenant or UserAssignedMSI, got {app_type!r}")
    if app_type == "SingleTenant" and not tenant and env.get("MICROSOFT_APP_ID"):
        raise ConfigError("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID (the Azure Bot's "
                          "Configuration page shows it)")
    return app_type


def _check_slack_mode(env: Mapping[str, str]) -> None:
    """One Slack mode at a time: SLACK_BOT_TOKEN (one workspace) or the OAuth app's client id and
    secret (any number); each of the second pair is useless alone, and both need the signing secret."""
    token, client_id, secret = (bool(env.get(name)) for name in
                                ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"))
    if token and (client_id or secret):
        raise ConfigError("set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                          "(any number of workspaces, installed through /slack/install), not both")
    if client_id != secret:
        raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: set both (Basic Information → "
                          "App Credentials) or neither")
    if client_id and not env.get("SLACK_SIGNING_SECRET"):
        raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET need SLACK_SIGNING_SECRET too "
                          "(Basic Information → App Credentials)")


def _validate(values: dict) -> None:
    from datetime import time
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"setting 'timezone' is not an IANA timezone: {values['timezone']!r}") from None
    for path in ("cadence.commitments.due_time", "cadence.peer_sync.time", "cadence.meetings.quiet_from",
                 "cadence.meetings.quiet_until"):
        section, *rest = path.split(".")
        node = values[section]
        for part in rest[:-1]:
            node = node[part]
        try:
            if len(node[rest[-1]]) != 5:
                raise ValueError
            time.fromisoformat(node[rest[-1]])
        except ValueError:
            raise ConfigError(f"setting '{path}' must be HH:MM, got {node[rest[-1]]!r}") from None
    for section, key in (("peer_sync", "weekday"), ("pulse", "day")):
        weekday = values["cadence"][section][key] = values["cadence"][section][key].lower()[:3]
        if weekday not in WEEKDAYS:
            raise ConfigError(f"setting 'cadence.{section}.{key}' must be one of {', '.join(WEEKDAYS)}")
    for path in ("cadence.tick_seconds", "cadence.peer_sync.nudge_after_hours",
                 "cadence.commitments.remind_before_hours",
                 "cadence.handoffs.accept_within_hours", "cadence.handoffs.stale_after_days",
                 "cadence.meetings.nudge_hours", "cadence.meetings.default_minutes",
                 "cadence.asks.nudge_after_hours", "cadence.asks.escalate_after_hours",
                 "cadence.pulse.close_after_days", "cadence.pulse.min_answers", "retention.processed_delivery_days",
                 "outbox.lease_seconds"):
        if _at(values, path) <= 0:
            raise ConfigError(f"setting '{path}' must be greater than 0")
    for path in ("cadence.peer_sync.max_nudges", "outbox.slack_channel_seconds"):
        if _at(values, path) < 0:
            raise ConfigError(f"setting '{path}' must be 0 or more")
    teams = values["teams"]
    teams["service_url_hosts"] = [host.lower() for host in teams["service_url_hosts"]]
    for host in teams["service_url_hosts"]:
        if error := pattern_error(host):
            raise ConfigError(f"setting 'teams.service_url_hosts' {error}, got {host!r}")
    shares = values["credit"]
    if any(share < 0 for share in shares.values()) or abs(sum(shares.values()) - 1) > 1e-6:
        raise ConfigError("settings 'credit.originator', 'credit.deliverer' and 'credit.contributors' must be 0 or "
                          f"more and add up to 1, got {', '.join(f'{k} {v}' for k, v in shares.items())}")


def _at(values: dict, path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        node = node[part]
    return node
