"""Which Web API client speaks for a workspace: the one bot token of a single-workspace app, or
the token of the workspace's own installation (multi-workspace: one client per workspace, built
when first used and dropped when its installation changes; with token rotation, built anew
once its token nears expiry, after refreshing it)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.rotation import TokenRotation


def not_installed(team: str, why: str) -> str:
    """Why a message owed to `team` is parked: the outbox's `last_error`, by which a reinstall
    finds the workspace's parked messages again (storage.installations.PARKED_PREFIX)."""
    return f"not installed in Slack workspace {team}: {why}"


class NotInstalled(Exception):
    """No installation reaches this workspace (never installed, or uninstalled)."""

    def __init__(self, team: str, why: str = "no installation (uninstalled, or never installed)"):
        super().__init__(not_installed(team, why))
        self.team = team


class WorkspaceClients(Protocol):
    async def of(self, team: str) -> AsyncWebClient: ...


class OneWorkspace:
    """SLACK_BOT_TOKEN: one client for everything."""

    def __init__(self, client: AsyncWebClient):
        self.client = client

    async def of(self, team: str) -> AsyncWebClient:
        return self.client


class InstalledWorkspaces:
    """A client per installed workspace, with the bot token of the installation `installation_of(team)`
    finds (None: not installed), refreshed by `rotation` before it expires."""

    def __init__(self, base: AsyncWebClient, installation_of: Callable[[str], Awaitable[Installation | None]],
                 rotation: TokenRotation | None = None):
        self.base = base  # its base_url (SLACK_API_URL), timeout and HTTP session, without a token
        self.installation_of = installation_of
        self.rotation = rotation
        self._clients: dict[str, tuple[AsyncWebClient, Installation]] = {}

    async def of(self, team: str) -> AsyncWebClient:
        known = self._clients.get(team)
        if known is not None and not self._expiring(known[1]):
            return known[0]
        installation = await self.installation_of(team)
        if installation is None or not installation.bot_token:
            raise NotInstalled(team)
        if self.rotation is not None:
            try:
                installation = await self.rotation.fresh(installation)  # saving it forgets the old client
            except SlackTokenRotationError as refused:
                error = refused.api_error.response
                if error.status_code == 429 or error.status_code >= 500:
                    raise refused.api_error from None  # Slack busy: the outbox tries again later
                raise NotInstalled(team, f"token refresh refused ({error.get('error')})") from None
        client = AsyncWebClient(token=installation.bot_token, base_url=self.base.base_url, timeout=self.base.timeout,
                                session=self.base.session, logger=self.base.logger)
        self._clients[team] = (client, installation)
        return client

    def _expiring(self, installation: Installation) -> bool:
        return self.rotation is not None and self.rotation.expiring(installation)

    def forget(self, team: str | None) -> None:
        """An installation changed (reinstalled, token rotated, uninstalled): its next call reads
        the token again. None: an org-wide one, which may serve any workspace: all of them."""
        if team is None:
            self._clients.clear()
        else:
            self._clients.pop(team, None)
