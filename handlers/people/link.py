"""link: one person on two platforms. `link` on one answers a code, `link <code>` on the other joins them."""
from __future__ import annotations

import secrets
from datetime import timedelta

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb

CODE_LIFETIME = timedelta(minutes=10)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read and retyped


async def link(ctx: Context, args: str) -> Reply:
    code = args.strip().upper()
    if not code:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        await ctx.store.issue_link_code(code, ctx.caller.id, ctx.now + CODE_LIFETIME)
        await ctx.log("person.link_code", f"person:{ctx.caller.id}", after={"platform": ctx.platform})
        return Reply(f"Your link code is {code} (valid 10 minutes). On your other platform "
                     f"(Slack or Teams), send `link {code}` to Partnerbot.")
    issued = await ctx.store.take_link_code(code)
    if issued is None or issued.expires_at < ctx.now:
        raise UserError(f"'{code}' is not a valid link code (codes work once, for 10 minutes). "
                        f"Send `link` for a new one.")
    if issued.person_id == ctx.caller.id:
        raise UserError("That code is yours, from this same account; use it on your other platform.")
    if ctx.platform in await ctx.store.platforms_of(issued.person_id):
        raise UserError(f"That code was made on {ctx.platform} too; use it on your other platform.")
    keeper = await ctx.store.get_person(issued.person_id)
    absorbed = ctx.caller
    await ctx.store.merge_person(absorbed, keeper)
    await ctx.store.log(workspace_id=ctx.workspace.id, at=ctx.now, person_id=keeper.id, platform=ctx.platform,
                        action="person.linked", record=f"person:{keeper.id}",
                        before={"person_id": absorbed.id}, after={"person_id": keeper.id})
    platforms = " and ".join(sorted(set(await ctx.store.platforms_of(keeper.id))))
    return Reply(f"Linked: you are now one person ({keeper.display_name}) on {platforms}; "
                 f"your commitments and handoffs from both are together.")


VERBS = [
    Verb("link", ("link", "link <code>"), "join your Slack and Teams identities into one person",
         ("link", "link K7Q2XPMA"), link),
]
