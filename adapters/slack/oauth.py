"""Multi-workspace Slack: "Add to Slack" for any workspace, with bolt's own OAuth v2 machinery.

GET /slack/install shows the "Add to Slack" page; its link carries a one-time state (kept in
the database, and in a cookie of the browser that asked) to Slack's authorize page, which sends
the installer back to GET /slack/oauth_redirect with a code. bolt's AsyncOAuthFlow checks the
state, trades the code for the workspace's bot token (oauth.v2.access) and saves the installation;
its authorize middleware then gives every request from that workspace its own token.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import yaml
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import InstalledWorkspaces
from adapters.slack.installations import (
    STATE_LIFETIME,
    DatabaseInstallationStore,
    DatabaseOAuthStateStore,
    InstallationRecords,
    workspace_key,
)
from adapters.slack.rotation import TokenRotation

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
MANIFEST = Path(__file__).with_name("manifest.yaml")


def bot_scopes() -> list[str]:
    """The bot scopes an install asks for: the manifest's, so the two never differ."""
    return list(yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])


def authorize_url(api_url: str) -> str:
    """Slack's authorize page beside its Web API (https://slack.com/api/ → https://slack.com/oauth/v2/authorize)."""
    return urljoin(api_url, "/oauth/v2/authorize")


@dataclass(frozen=True)
class OAuthApp:
    """The Slack app's OAuth credentials and where installations are kept."""

    client_id: str
    client_secret: str
    public_url: str  # where browsers reach `serve`: the redirect URL is PUBLIC_URL/slack/oauth_redirect
    records: InstallationRecords

    @property
    def install_url(self) -> str:
        return f"{self.public_url}{INSTALL_PATH}"


class RotatingAuthorize(AsyncInstallationStoreAuthorize):
    """bolt's authorize, refreshing an expiring token through the same TokenRotation the outbox
    uses: a request and a send to one workspace at once refresh it once, not twice."""

    def __init__(self, *, rotation: TokenRotation, **kwargs):
        super().__init__(**kwargs)
        self.rotation = rotation

    async def _rotate_and_save_tokens_if_necessary(self, installation: Installation | None) -> Installation | None:
        return await self.rotation.rotate_and_save(installation)


class SlackInstaller:
    """The OAuth flow, the stores behind it, and one Web API client per installed workspace."""

    def __init__(self, app: OAuthApp, client: AsyncWebClient):
        self.records = app.records
        self.store = DatabaseInstallationStore(app.records, on_change=self._installation_changed)
        self._org_teams: dict[str, str] = {}  # team -> org, already recorded by this process
        settings = AsyncOAuthSettings(
            client_id=app.client_id, client_secret=app.client_secret, scopes=bot_scopes(), user_scopes=[],
            redirect_uri=f"{app.public_url}{REDIRECT_PATH}", install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH, authorization_url=authorize_url(client.base_url),
            installation_store=self.store, state_store=DatabaseOAuthStateStore(app.records),
            state_expiration_seconds=int(STATE_LIFETIME.total_seconds()), logger=log,
        )
        # bolt's default builds its token rotator's client for slack.com: ours speaks to SLACK_API_URL.
        # Incoming requests (bolt's authorize), the outbox and profile lookups all refresh through it.
        self.rotation = TokenRotation(
            self.store, AsyncTokenRotator(client_id=app.client_id, client_secret=app.client_secret, client=client),
            minutes_before_expiration=settings.token_rotation_expiration_minutes)
        self.clients = InstalledWorkspaces(client, self.store.installation_for_team, self.rotation)
        # The cache is keyed by token, so a reinstall's (or a refresh's) new token is checked
        # (auth.test) once, then reused.
        settings.authorize = RotatingAuthorize(
            rotation=self.rotation, logger=log, installation_store=self.store, client_id=app.client_id,
            client_secret=app.client_secret, client=client, cache_enabled=True,
            token_rotation_expiration_minutes=settings.token_rotation_expiration_minutes)
        self.flow = AsyncOAuthFlow(client=client, logger=log, settings=settings)

    def _installation_changed(self, team: str | None) -> None:
        self.clients.forget(team)
        authorize = self.flow.settings.authorize
        if isinstance(authorize, AsyncInstallationStoreAuthorize):  # a revoked token must not stay authorized
            authorize.authorize_result_cache.clear()

    async def note_org_workspace(self, context, next) -> None:  # bolt passes `next` by this name
        """bolt middleware: remember which Enterprise Grid org a workspace belongs to, once per
        process, so that what is owed to it later finds the org-wide installation."""
        team, enterprise = context.team_id, context.enterprise_id
        if team and enterprise and self._org_teams.get(team) != enterprise:
            try:
                await self.records.note_org_team(team, enterprise)
                self._org_teams[team] = enterprise
            except Exception:  # the request goes on; the next one tries again
                log.exception("could not record workspace %s of org %s", team, enterprise)
        await next()

    async def on_tokens_revoked(self, event: dict, context) -> None:
        """Slack revoked tokens of a workspace: once the bot's is among them, the installation goes
        and the workspace's messages are parked until it reinstalls (its data stays)."""
        tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
        if tokens.get("bot"):
            await self._uninstalled(context, "tokens_revoked")

    async def on_app_uninstalled(self, context) -> None:
        await self._uninstalled(context, "app_uninstalled")

    async def _uninstalled(self, context, why: str) -> None:
        enterprise, team = workspace_key(context.enterprise_id, context.team_id, context.is_enterprise_install)
        await self.store.async_delete_installation(enterprise_id=enterprise, team_id=team)
        log.warning("Slack %s %s: %s; its messages wait for a reinstall", "workspace" if team else "org",
                    team or enterprise, why)

    async def install_page(self, request: web.Request) -> web.Response:
        """GET /slack/install: the "Add to Slack" page, its link carrying a new state."""
        return await to_aiohttp_response(await self.flow.handle_installation(await to_bolt_request(request)))

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        """GET /slack/oauth_redirect: Slack's answer. A state that is forged, expired, used before or
        not this browser's, or a code Slack refuses, installs nothing and shows why."""
        response = await self.flow.handle_callback(await to_bolt_request(request))
        if response.status != 200:
            log.warning("Slack install refused: HTTP %s", response.status)
        return await to_aiohttp_response(response)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(INSTALL_PATH, self.install_page), web.get(REDIRECT_PATH, self.oauth_redirect)]
