"""Token rotation (when the Slack app has it turned on): a workspace's bot token expires 12 hours
after Slack issues it, and its refresh token buys the next one (oauth.v2.access,
grant_type=refresh_token, through slack_sdk's AsyncTokenRotator against SLACK_API_URL).

bolt refreshes on incoming requests only; the outbox and profile lookups ask here too, so a
workspace nobody has written to for a day still gets its reminders. Whoever asks first within
`minutes_before_expiration` (bolt's default: 120) of the expiry refreshes and saves; in one
process, the others wait on the workspace's lock and then find the new token saved. Two
replicas may both refresh at once: each save is an upsert and the later one stays, and the
access token the other one got keeps working at Slack until it expires, so neither replica's
sends fail meanwhile.
"""
from __future__ import annotations

import asyncio
import logging
from time import time

from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from adapters.slack.installations import DatabaseInstallationStore, workspace_key

log = logging.getLogger(__name__)

MINUTES_BEFORE_EXPIRATION = 120  # bolt's AsyncOAuthSettings.token_rotation_expiration_minutes default


def expiring(installation: Installation, minutes_before_expiration: int) -> bool:
    """Its bot token rotates and expires within the window (a token that never expires: False)."""
    expires_at = installation.bot_token_expires_at
    return bool(installation.bot_refresh_token) and expires_at is not None and \
        expires_at <= time() + minutes_before_expiration * 60


class TokenRotation:
    """Refreshes a workspace's (or org's) bot token before it expires, once per workspace at a time."""

    def __init__(self, store: DatabaseInstallationStore, rotator: AsyncTokenRotator,
                 minutes_before_expiration: int = MINUTES_BEFORE_EXPIRATION):
        self.store = store
        self.rotator = rotator
        self.minutes_before_expiration = minutes_before_expiration
        self._locks: dict[tuple[str | None, str | None], asyncio.Lock] = {}  # one per installed workspace at most

    def expiring(self, installation: Installation) -> bool:
        return expiring(installation, self.minutes_before_expiration)

    async def fresh(self, installation: Installation) -> Installation:
        """`installation` with a bot token good beyond the window: as it is, as another caller (or
        replica) has just saved it, or refreshed here and saved. A refresh that fails (Slack refuses,
        or cannot be reached) while the token still works is logged and tried again on the next
        use; once the token has expired, the error (SlackTokenRotationError when Slack refused)
        goes to the caller."""
        if not self.expiring(installation):
            return installation
        key = workspace_key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            current = await self._stored(installation) or installation
            if not self.expiring(current):  # refreshed meanwhile, here or by another replica
                return current
            try:
                rotated = await self.rotator.perform_token_rotation(
                    installation=current, minutes_before_expiration=self.minutes_before_expiration)
            except Exception as error:  # Slack refused, or was not reached: a token that still works goes on
                return await self._refused(current, error)
            if rotated is None:
                return current
            await self.store.async_save(rotated)
            log.info("Slack %s: bot token refreshed", key[1] or key[0])
            return rotated

    async def _stored(self, installation: Installation) -> Installation | None:
        return await self.store.async_find_installation(
            enterprise_id=installation.enterprise_id, team_id=installation.team_id,
            is_enterprise_install=installation.is_enterprise_install)

    async def _refused(self, current: Installation, error: Exception) -> Installation:
        stored = await self._stored(current)
        if stored is not None and stored.bot_refresh_token != current.bot_refresh_token:
            return stored  # another replica refreshed with the same refresh token first: its token is saved
        if current.bot_token_expires_at is not None and current.bot_token_expires_at > time():
            log.warning("Slack %s: refreshing the bot token failed (%s); the current one still works, "
                        "trying again on the next use", current.team_id or current.enterprise_id,
                        getattr(error, "api_error", None) or repr(error))
            return current
        raise error

    async def rotate_and_save(self, installation: Installation | None) -> Installation | None:
        """For bolt's authorize (AsyncInstallationStoreAuthorize._rotate_and_save_tokens_if_necessary):
        the refreshed installation, or None when nothing changed."""
        if installation is None or not self.expiring(installation):
            return None
        fresh = await self.fresh(installation)
        return fresh if fresh.bot_token != installation.bot_token else None
