"""export: a partnership's activity log as a CSV, answered as a download link valid for an hour.

Only the SHA-256 of the link's token is stored, so the database alone gives nobody a working
link; `partnerbot serve` (bot/exports.py) turns a live token back into the CSV.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from handlers.kernel.context import Context, JobContext
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.registry import Job, Verb
from handlers.partnerships import policy
from handlers.partnerships.service import find_partnership
from storage.models import ExportToken

LIFETIME = timedelta(hours=1)
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def export_path(token: str) -> str:
    return f"/exports/{token}.csv"


async def export(ctx: Context, args: str) -> Reply:
    words = args.split()
    if not words:
        raise UserError("Say which partnership: `export P-1`.")
    if len(words) > 1:
        raise UserError(f"`export` takes only the partnership, not '{' '.join(words[1:])}'.")
    p = await find_partnership(ctx, words[0])
    ref = p.ref
    if not await policy.may_export(ctx, p):
        raise UserError(f"Only members of {ref} can export its activity log.")
    policy.require_private(ctx, f"Ask for the export of {ref} in a direct chat with me: here everyone in the "
                                f"conversation would see the download link.")
    token = secrets.token_urlsafe(32)
    expires_at = ctx.now + LIFETIME
    await ctx.store.add(ExportToken(token_hash=token_hash(token), workspace_id=p.workspace_id,
                                    partnership_id=p.id, created_by_id=ctx.caller.id,
                                    created_at=ctx.now, expires_at=expires_at))
    await ctx.log("export.created", ref, after={"expires_at": expires_at.isoformat()}, workspace_id=p.workspace_id)
    url = ctx.settings.public_url + export_path(token)
    return Reply(f"The activity log of {ref} {p.name} as a CSV (one row per change: who did what, when, "
                 f"from which platform): {url}\nThe link works until {format_instant(expires_at, ctx.tz)}, "
                 f"as often as you need; it is served by `partnerbot serve`. Keep it to yourself: anyone "
                 f"with the link can download the log until then.")


VERBS = [
    Verb("export", ("export P-n",),
         "the partnership's activity log as a CSV download link, valid for an hour",
         ("export P-1",), export),
]


# --- the links of the past ---------------------------------------------------------------------
async def expired(cad: JobContext, after) -> list:
    return await cad.store.expired_export_tokens(cad.now, after)


async def forget(cad: JobContext, hashed: str) -> bool:
    """Forget a link that no longer works (a download checks the time as it starts, so one
    under way is not cut off)."""
    return await cad.store.delete_export_token(hashed, cad.now)


JOBS = [Job("expired export links", find=expired, run=forget)]
