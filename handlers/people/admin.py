"""admin: what only an admin does. Today that is setting someone's manager."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.partnerships import policy
from handlers.people.service import set_manager

_USAGE = "`admin manager @rep @manager`"


async def admin(ctx: Context, args: str) -> Reply:
    what, _, rest = args.strip().partition(" ")
    if what.lower() != "manager":
        raise UserError(f"'{what}' is not an admin command; the one there is: {_USAGE}.")
    policy.require_admin(ctx, "set someone's manager")
    rep, rest = await ctx.take_person(rest, f"the rep, then their manager: {_USAGE}")
    manager, extra = await ctx.take_person(rest, f"their manager after the rep: {_USAGE}")
    if extra:
        raise UserError(f"I don't understand '{extra}'; say {_USAGE}.")
    previous = await set_manager(ctx, rep, manager, why=f"set by {ctx.caller.display_name}, an admin",
                                 caller_id=ctx.caller.id, prefer_platform=ctx.platform)
    if previous is not None and previous.id == manager.id:
        return Reply(f"{manager.display_name} already is {rep.display_name}'s manager; nothing changed.")
    was = f", instead of {previous.display_name}" if previous else ""
    also = f", and so is {previous.display_name}" if previous and previous.id != ctx.caller.id else ""
    return Reply(f"{manager.display_name} is now {rep.display_name}'s manager{was}. Both are told{also}.")


VERBS = [
    Verb("admin", ("admin manager @rep @manager",),
         "admins only: set or change someone's manager (both, and the previous manager, are told)",
         ("admin manager @maria @dana",), admin),
]
