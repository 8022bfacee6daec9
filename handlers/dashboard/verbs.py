"""dashboard: a private one-time sign-in link to the web dashboard; `dashboard signout`."""
from __future__ import annotations

from handlers.dashboard import messages, service
from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.partnerships import policy


async def dashboard(ctx: Context, args: str) -> Reply:
    word = args.strip()
    if word.lower() == "signout":
        return Reply(messages.signed_out(await service.end_all_sessions(ctx)))
    if word:
        raise UserError(messages.not_understood(word))
    policy.require_private(ctx, messages.not_here())
    url, until = await service.issue_sign_in(ctx)
    return Reply(messages.sign_in_link(url, format_instant(until, ctx.tz)))


VERBS = [
    Verb("dashboard", ("dashboard", "dashboard signout"),
         "a private one-time sign-in link to the web dashboard (10 minutes, once) / end all of your "
         "dashboard sessions", ("dashboard", "dashboard signout"), dashboard),
]
