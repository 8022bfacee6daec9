"""win: record a won handoff or lead (`handoff H-n won` and `lead L-n won` are the same win),
or correct the amount of a recorded win (`win H-n amount 120k`)."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import ref_kind
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.leads.service import parse_amount
from handlers.partnerships import policy
from handlers.wins.service import correct_amount, record_win


async def win(ctx: Context, args: str) -> Reply:
    token, _, amount = args.strip().partition(" ")
    if not token:
        raise UserError("Say what was won: `win H-3` or `win L-2 120k`.")
    amount = amount.strip()
    word, _, corrected = amount.partition(" ")
    correcting = word.lower() == "amount"  # `win H-3 amount 95k`: who may win it may correct its amount
    kind = ref_kind(token)
    if kind == "H":
        record = await ctx.store.handoff_for(ctx.workspace.id, ctx.ref_number(token, "H", "handoff"), ctx.caller.id)
        if record is None:
            raise UserError(f"There is no handoff {token.upper()} here.")
        await policy.may_move_handoff(ctx, record, "correct its amount" if correcting else "record its win")
    elif kind == "L":
        record = await ctx.store.lead_for(ctx.workspace.id, ctx.ref_number(token, "L", "lead"), ctx.caller.id,
                                          ctx.channel)
        if record is None:
            raise UserError(f"There is no lead {token.upper()} here.")
        await policy.may_change_lead(ctx, record)
    else:
        raise UserError(f"'{token}' is not a handoff or lead reference like H-3 or L-2.")
    if correcting:
        corrected = corrected.strip()
        if not corrected:
            raise UserError(f"Say the win's correct amount: `win {record.ref} amount 120k`.")
        return await correct_amount(ctx, record, parse_amount(corrected))
    return await record_win(ctx, record, amount_cents=parse_amount(amount) if amount else None)


VERBS = [
    Verb("win", ("win H-n|L-n [amount]", "win H-n|L-n amount <amount>"),
         "record a won handoff or lead: credits its originator, deliverer and contributors, and celebrates; "
         "or correct the amount of a recorded win (not celebrated again)", (
             "win L-2 120k", "win H-3", "win H-3 $1.5m", "win H-3 amount 95k",
         ), win),
]
