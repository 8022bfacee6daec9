"""Who a mentioned or picked Teams user is, from the conversation's roster.

Teams sends a mention as {"id": "29:…", "name": …}: no AAD object id, which is what a person
who writes is keyed by, and what the people picker of a form returns. The roster
(TeamsInfo.get_member, GET /v3/conversations/{id}/members/{memberId}, which takes either id)
gives both ids and an email, when the bot is in that conversation. Answers are kept for an hour
(a failure for five minutes), so a person mentioned all day costs one request.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

log = logging.getLogger(__name__)

KNOWN_SECONDS = 3600.0
UNKNOWN_SECONDS = 300.0  # not in the roster (or it failed): ask again later, not on every mention
MAX_CACHED = 10_000


class Roster:
    def __init__(self, timeout: float = 3.0):
        self.timeout = timeout  # the lookups sit on the path of the message's answer
        self._known: dict[tuple[str, ...], tuple[float, dict | None]] = {}

    async def members(self, turn_context: TurnContext, tenant: str, ids: Iterable[str]) -> dict[str, dict]:
        """The roster's account (wire JSON: id, aadObjectId, email, userPrincipalName…) of each of
        `ids` it knows, by the id asked."""
        wanted = sorted(set(ids))
        found = await asyncio.gather(*(self._member(turn_context, tenant, member_id) for member_id in wanted))
        return {member_id: member for member_id, member in zip(wanted, found, strict=True) if member}

    async def _member(self, turn_context: TurnContext, tenant: str, member_id: str) -> dict | None:
        # a person is who they are in every conversation of the tenant; not being in the roster
        # holds for this conversation only (the bot may be in another one with them)
        conversation = turn_context.activity.conversation.id
        for key in ((tenant, member_id), (tenant, member_id, conversation)):
            known = self._known.get(key)
            if known and time.monotonic() < known[0]:
                return known[1]
        try:
            account = await asyncio.wait_for(TeamsInfo.get_member(turn_context, member_id), self.timeout)
            member = account.serialize() if account is not None else None
        except Exception as error:  # not in this conversation (404), no rights, slow: keep the 29:… id
            log.info("Teams roster has no %s here (%s)", member_id, type(error).__name__)
            member = None
        if len(self._known) >= MAX_CACHED:
            self._known.clear()
        if member:
            self._known[(tenant, member_id)] = (time.monotonic() + KNOWN_SECONDS, member)
        else:
            self._known[(tenant, member_id, conversation)] = (time.monotonic() + UNKNOWN_SECONDS, None)
        return member
