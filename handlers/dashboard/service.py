"""Sign-in links and browser sessions of the web dashboard (adapters/web serves the pages;
bot/ passes these functions to it).

A link's token and a session's cookie are random (secrets.token_urlsafe(32)); only their SHA-256
is stored. A link works once, for 10 minutes; a session lasts 8 hours unless ended first.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from handlers.kernel.context import Context
from handlers.partnerships import policy
from handlers.partnerships.policy import DashboardView
from storage.models import DashboardSession, DashboardSignIn, Person
from storage.store import Store

SIGN_IN_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)
SIGN_IN_PATH = "/app/signin/"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_sign_in(ctx: Context) -> tuple[str, datetime]:
    """A new sign-in link of the caller, and when it stops working."""
    token = secrets.token_urlsafe(32)
    expires_at = ctx.now + SIGN_IN_LIFETIME
    whole_workspace = policy.sees_whole_workspace(ctx)
    await ctx.store.add(DashboardSignIn(token_hash=token_hash(token), person_id=ctx.caller.id,
                                        workspace_id=ctx.workspace.id, expires_at=expires_at,
                                        whole_workspace=whole_workspace))
    await ctx.log("dashboard.sign_in_link", f"person:{ctx.caller.id}",
                  after={"expires_at": expires_at.isoformat(), "whole_workspace": whole_workspace})
    return ctx.settings.public_url + SIGN_IN_PATH + token, expires_at


async def sign_in(store: Store, token: str, now: datetime) -> str | None:
    """Use a sign-in link: the new session's cookie token, or None when the link is malformed,
    unknown, expired or used (all alike to whoever tries)."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    taken = await store.take_dashboard_sign_in(token_hash(token), now)
    if taken is None:
        return None
    session = secrets.token_urlsafe(32)
    await store.add(DashboardSession(token_hash=token_hash(session), person_id=taken.person_id,
                                     created_at=now, expires_at=now + SESSION_LIFETIME,
                                     whole_workspace=taken.whole_workspace))
    await store.log(workspace_id=taken.workspace_id, at=now, person_id=taken.person_id, platform="web",
                    action="dashboard.signed_in", record=f"person:{taken.person_id}")
    return session


async def session_view(store: Store, session: str, now: datetime) -> DashboardView | None:
    """What the live session of this cookie may see (policy.dashboard_view); None for anything else."""
    if not TOKEN_SHAPE.fullmatch(session):
        return None
    found = await store.live_dashboard_session(token_hash(session), now)
    if found is None:
        return None
    viewer = await store.get(Person, found.person_id)
    return await policy.dashboard_view(store, viewer, found.whole_workspace) if viewer is not None else None


async def end_session(store: Store, session: str, now: datetime) -> bool:
    """/app/logout: end this browser's session."""
    if not TOKEN_SHAPE.fullmatch(session):
        return False
    return await store.end_dashboard_sessions(now, token_hash=token_hash(session)) > 0


async def end_all_sessions(ctx: Context) -> int:
    """`dashboard signout`: every live session of the caller ends."""
    ended = await ctx.store.end_dashboard_sessions(ctx.now, person_id=ctx.caller.id)
    if ended:
        await ctx.log("dashboard.signed_out", f"person:{ctx.caller.id}", after={"sessions": ended})
    return ended
