"""win: record a won handoff or lead (`handoff H-n won` and `lead L-n won` are the same win)."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import ref_kind
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.leads.service import parse_amount
from handlers.partnerships import policy
from handlers.wins.service import record_win


async def win(ctx: Context, args: str) -> Reply:
    token, _, amount = args.strip().partition(" ")
    if not token:
        raise UserError("Say what was won: `win H-3` or `win L-2 120k`.")
    kind = ref_kind(token)
    if kind == "H":
        record = await ctx.store.handoff(ctx.workspace.id, ctx.ref_number(token, "H", "handoff"))
        if record is None:
            raise UserError(f"There is no handoff {token.upper()} here.")
        await policy.may_move_handoff(ctx, record, "record its win")
    elif kind == "L":
        record = await ctx.store.lead_for(ctx.workspace.id, ctx.ref_number(token, "L", "lead"), ctx.caller.id,
                                          ctx.channel)
        if record is None:
            raise UserError(f"There is no lead {token.upper()} here.")
        await policy.may_change_lead(ctx, record)
    else:
        raise UserError(f"'{token}' is not a handoff or lead reference like H-3 or L-2.")
    amount = amount.strip()
    return await record_win(ctx, record, amount_cents=parse_amount(amount) if amount else None)


VERBS = [
    Verb("win", ("win H-n|L-n [amount]",),
         "record a won handoff or lead: credits its originator, deliverer and contributors, and celebrates", (
             "win L-2 120k", "win H-3", "win H-3 $1.5m",
         ), win),
]
