"""`partnerbot teams-package`: the Teams app package (a zip of manifest.json, color.png and
outline.png) built from the settings, so that nobody fills in a manifest by hand.

The manifest is the one source of what Teams is told about the bot. It declares the latest
manifest version whose schema Microsoft's npm package `@microsoft/app-manifest` (pinned in
.ci/run) ships; tests/bot/test_teams_package.py validates it against that schema.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Settings
from bot.teams_icons import ACCENT, color_png, outline_png

MANIFEST_VERSION = "1.30"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
DEFAULT_NAME = "Partnerbot"
SHORT_NAME_MAX = 30  # the schema's limit on name.short
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Fixed timestamps make two builds from the same settings byte for byte the same zip.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# What Teams suggests as people type to the bot; at most 10 (Teams' limit for older clients).
COMMANDS = (
    ("help", "Every verb, or one verb with examples: help commit"),
    ("commit", "commit <what> by <date> [to @person] [re <account or H-n>]"),
    ("done", "done C-n [note]: mark a commitment kept"),
    ("handoff", "handoff @rep <account>: <need> [by <date>]"),
    ("ask", "ask @person <request> [by <date>]"),
    ("list", "list [mine | @person | overdue | account <name>]"),
    ("report", "report [me | @person | P-n]: a scorecard"),
    ("sync now", "sync now [P-n]: open this week's peer sync"),
    ("timezone", "timezone <Area/City>"),
    ("link", "link / link <code>: join your Slack and Teams identities"),
)


class PackageError(ValueError):
    """Why no package can be built from these settings: one line for the operator."""


def _https(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise PackageError(f"{what} must be an https address Teams can reach, like https://partnerbot.example.com; "
                           f"got {url!r}")
    return url


def _app_version() -> str:
    try:
        return metadata.version("partnerbot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0.1.0"


def build_manifest(settings: Settings, name: str = DEFAULT_NAME, privacy_url: str | None = None,
                   terms_url: str | None = None) -> dict:
    """The manifest for this bot, or PackageError saying which setting is missing or wrong."""
    app_id = settings.microsoft_app_id.strip()
    if not app_id:
        raise PackageError("MICROSOFT_APP_ID is not set: the package needs the app id of your Azure Bot")
    if not _GUID.fullmatch(app_id):
        raise PackageError(f"MICROSOFT_APP_ID must be the Azure Bot's app id, a GUID like "
                           f"00000000-0000-0000-0000-000000000000; got {app_id!r}")
    # why https only: Teams reaches the bot at PUBLIC_URL/api/messages, which Azure accepts only
    # over https, and Teams opens the developer pages only from https valid domains
    public_url = _https(settings.public_url, "PUBLIC_URL")
    website = public_url.rstrip("/") + "/"
    name = name.strip()
    if not name or len(name) > SHORT_NAME_MAX or not name.isprintable():
        raise PackageError(f"the app name must be 1 to {SHORT_NAME_MAX} printable characters; got {name!r}")
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": _app_version(),
        # the bot's app id doubles as the Teams app id: stable across rebuilds, so an upload
        # replaces the app instead of adding a second one, and one app per bot registration
        "id": app_id,
        "developer": {
            "name": "Partnerbot contributors",
            "websiteUrl": website,
            "privacyUrl": _https(privacy_url, "--privacy-url") if privacy_url else website,
            "termsOfUseUrl": _https(terms_url, "--terms-url") if terms_url else website,
        },
        "name": {"short": name, "full": f"{name}: a partnering cadence for sales teams"},
        "description": {
            "short": "Handoffs, commitments and peer syncs between partners.",
            "full": "Partnerbot keeps a partnering cadence: reps log handoffs to partner reps and commitments "
                    "(who does what by when), managers keep a weekly peer sync, and everyone is nudged when "
                    "they slip.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [{
            "botId": app_id,
            "scopes": ["personal", "team", "groupChat"],
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{
                "scopes": ["personal", "team", "groupChat"],
                "commands": [{"title": title, "description": description} for title, description in COMMANDS],
            }],
        }],
        "validDomains": [urlsplit(public_url).hostname],
    }


def write_package(out: Path, manifest: dict) -> None:
    """The zip at `out`: manifest.json, color.png and outline.png at its root. Written beside
    `out` and renamed into place, so a failure never leaves half a package."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise PackageError(f"cannot write {out}: the folder {folder} does not exist")
    files = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode(),
        "color.png": color_png(),
        "outline.png": outline_png(),
    }
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".teams-package-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            for file_name, data in files.items():
                entry = zipfile.ZipInfo(file_name, date_time=_ZIP_TIME)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
