"""What a Teams activity must be before Partnerbot believes it, on top of its token: from Teams
(channelId), from an allowed tenant, and naming a serviceUrl on the allow-list — the bot posts
its replies, and later every proactive message to that person, to the serviceUrl an activity
names, so a forged one would make it POST wherever a stranger says (and keep doing so).

Plain functions on strings, no botbuilder: bot/config.py checks the settings with them.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

# Microsoft's documented hosts: the Teams service URLs (public, GCC, GCC High, DoD; the Agents
# SDK's TeamsServiceEndpoints) and the Bot Framework's channels (public and US Government clouds).
MICROSOFT_HOSTS = (
    "smba.trafficmanager.net",
    "*.botframework.com",
    "*.botframework.us",
    "*.botframework.azure.us",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PATTERN = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*", re.ASCII)
# Why so strict: a URL one parser reads as our host and another as someone else's (userinfo,
# backslashes, odd characters) would slip past the check; Bot Framework service URLs are plain
# `https://host[:port]/path/`.
_URL = re.compile(r"(?P<scheme>[A-Za-z]+)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
                  r"(?:/[A-Za-z0-9._~!$&'()*+,;=:%/-]*)?", re.ASCII)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only."""
    host = host.strip().lower().removeprefix("[").removesuffix("]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pattern_error(pattern: str) -> str | None:
    """Why `pattern` cannot be an entry of teams.service_url_hosts, or None when it can."""
    if pattern == "::1" or _PATTERN.fullmatch(pattern) and not (pattern.startswith("*.") and "." not in pattern[2:]):
        return None
    return "must be a host name like smba.trafficmanager.net, or *.domain for its subdomains (no scheme, port or path)"


class ServiceUrls:
    """The allow-list of teams.service_url_hosts: `host` exactly, `*.domain` any subdomain of domain
    (not domain itself). https always, except to a loopback host (an emulator, tests)."""

    def __init__(self, hosts: Iterable[str]):
        hosts = [h.strip().lower() for h in hosts]
        self.exact = frozenset(h for h in hosts if not h.startswith("*."))
        self.suffixes = tuple(h[1:] for h in hosts if h.startswith("*."))  # ".botframework.com"

    def refusal(self, url: object) -> str | None:
        """Why the bot may not post to `url`, or None when it may."""
        match = _URL.fullmatch(url) if isinstance(url, str) else None
        if match is None:
            return "serviceUrl is not a plain http(s) URL"
        scheme, host = match["scheme"].lower(), match["host"].lower()
        if scheme != "https" and not (scheme == "http" and is_loopback(host)):
            return f"serviceUrl must be https (host {host})"
        if host.strip("[]") not in self.exact and not host.endswith(self.suffixes):
            return f"serviceUrl host {host} is not in teams.service_url_hosts"
        return None
