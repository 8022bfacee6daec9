"""timezone: the caller's own setting, which wins over the platform profile."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb


async def timezone(ctx: Context, args: str) -> Reply:
    name = args.strip()
    if not name:
        return Reply(f"Your timezone is {ctx.tz}. Change it with `timezone Europe/Berlin`.")
    try:
        if "/" not in name and name.upper() != "UTC":
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"'{name}' is not a timezone I know; use an Area/City name like Europe/Berlin.") from None
    before = {"timezone": ctx.caller.timezone}
    ctx.caller.timezone = name if "/" in name else "UTC"
    await ctx.log("person.timezone", f"person:{ctx.caller.id}", before=before, after={"timezone": ctx.caller.timezone})
    # their peer-sync prompts and the meetings they organise move with it
    await ctx.registry.follow_timezone(ctx.store, ctx.caller.id, ctx.caller.timezone, ctx.now)
    return Reply(f"Your timezone is now {ctx.caller.timezone}; dates you type are read in it.")


VERBS = [
    Verb("timezone", ("timezone <Area/City>",), "set your timezone (otherwise your platform profile's)",
         ("timezone Europe/Berlin", "timezone America/New_York"), timezone),
]
