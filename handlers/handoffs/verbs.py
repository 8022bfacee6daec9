"""handoff: a rep hands a customer need to a partner rep, who accepts it; then it moves along stages."""
from __future__ import annotations

from handlers.handoffs.messages import handoff_card, offered
from handlers.handoffs.service import CLOSED, STAGES, WITHDRAWN, set_stage, snapshot, withdraw
from handlers.kernel.context import Context
from handlers.kernel.dates import parse_date
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import parse_ref, split_by_date
from handlers.kernel.history import show_with_history
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.kernel.text import handoff_line
from handlers.leads.service import split_amount
from handlers.partnerships import policy
from handlers.wins.service import record_win
from storage.models import Handoff


async def handoff(ctx: Context, args: str) -> Reply:
    first = args.strip().split(" ", 1)[0]
    if parse_ref(first, "H") is not None:
        return await _act_on(ctx, args)
    return await _create(ctx, args)


async def _create(ctx: Context, args: str) -> Reply:
    receiver, rest = await ctx.take_person(args, "the partner rep you hand over to")
    if receiver.id == ctx.caller.id:
        raise UserError("You can't hand a customer to yourself; mention the partner rep.")
    account, colon, need = rest.partition(":")
    if not colon:
        raise UserError("Separate the account from the need with a colon: `Acme Corp: needs a security review`.")
    account = account.strip()
    need, date_phrase = split_by_date(need, ctx.today)
    if not account:
        raise UserError("Name the account before the colon.")
    if not need:
        raise UserError(f"Say what {account} needs after the colon.")
    due_date = parse_date(date_phrase, ctx.today) if date_phrase else None

    h = Handoff(
        workspace_id=ctx.workspace.id, number=await ctx.store.next_number(ctx.workspace.id, Handoff.KIND),
        from_id=ctx.caller.id, to_id=receiver.id, account=account, need=need, due_date=due_date,
        stage_changed_at=ctx.now, created_at=ctx.now,
    )
    await ctx.store.add(h)
    await ctx.log("handoff.created", h.ref, after={**snapshot(h), "from_id": h.from_id, "to_id": h.to_id})
    if not await ctx.notify(receiver, "handoff.offered", h.ref, offered(h, ctx.caller)):
        return Reply(f"{h.ref} handed to {receiver.display_name}: {account} — {need}. "
                     f"{receiver.display_name} has not talked to Partnerbot yet, so I can't message them; "
                     f"the request waits and reaches them as soon as they do.")
    return Reply(f"{h.ref} handed to {receiver.display_name}: {account} — {need}. "
                 f"I've asked them to accept it.")


async def _act_on(ctx: Context, args: str) -> Reply:
    token, _, rest = args.strip().partition(" ")
    action, _, note = rest.strip().partition(" ")
    action, note = action.lower(), note.strip() or None
    h = await ctx.store.handoff_for(ctx.workspace.id, ctx.ref_number(token, "H", "handoff"), ctx.caller.id)
    if h is None:
        raise UserError(f"There is no handoff {token.upper()} here.")
    if not action:  # `handoff H-n`: show it with its history
        people = await ctx.store.people({h.from_id, h.to_id})
        await policy.may_see_record(ctx, h.ref, people[h.from_id], people[h.to_id])
        return await show_with_history(ctx, h.workspace_id, h.ref, handoff_line(h, people))
    if h.stage == WITHDRAWN:
        raise UserError(f"{h.ref} was withdrawn by the rep who handed it over.")
    if action == "withdraw":
        return await _withdraw(ctx, h, note)
    if action in ("accept", "decline"):
        return await _answer(ctx, h, action, note)
    if action not in STAGES:
        raise UserError(f"'{action}' is not a stage. Stages: {' → '.join(STAGES[:-1])} | lost.")
    return await _move(ctx, h, action, note)


async def _answer(ctx: Context, h: Handoff, action: str, reason: str | None) -> Reply:
    policy.may_answer_handoff(ctx, h)
    if h.accepted_at or h.declined_at:
        done = "accepted" if h.accepted_at else "declined"
        raise UserError(f"{h.ref} was already {done}.")
    before = snapshot(h)
    if action == "accept":
        h.accepted_at = ctx.now
    else:
        h.declined_at, h.decline_reason = ctx.now, reason
    verb = "accepted" if action == "accept" else "declined"
    await ctx.log(f"handoff.{verb}", h.ref, before=before, after={**snapshot(h), "reason": reason})
    giver = await ctx.store.get_person(h.from_id)
    why = f" Reason: {reason}." if reason else ""
    await ctx.notify(giver, f"handoff.{verb}", h.ref, Reply(
        f"{ctx.caller.display_name} {verb} {h.ref}: {h.account} — {h.need}.{why}"))
    return Reply(
        f"You {verb} {h.ref}: {h.account} — {h.need}. {giver.display_name} has been told.",
        cards=(handoff_card(h, giver, f"Handoff {h.ref} — {verb}"),),
        replace_source=ctx.command.from_button,
    )


async def _withdraw(ctx: Context, h: Handoff, reason: str | None) -> Reply:
    policy.may_withdraw_handoff(ctx, h)
    if h.declined_at or h.stage in CLOSED:
        raise UserError(f"{h.ref} is already {'declined' if h.declined_at else h.stage}.")
    receiver = await ctx.store.get_person(h.to_id)
    if not reason:
        raise UserError(f"Give a reason for withdrawing {h.ref}, so {receiver.display_name} knows why.")
    await withdraw(ctx, h, reason)
    await ctx.notify(receiver, "handoff.withdrawn", h.ref, Reply(
        f"{ctx.caller.display_name} withdrew {h.ref}: {h.account} — {h.need}. Reason: {reason}. "
        f"Nothing for you to do."))
    return Reply(f"{h.ref} withdrawn: {h.account} — {h.need}. {receiver.display_name} has been told.")


async def _move(ctx: Context, h: Handoff, stage: str, note: str | None) -> Reply:
    reps = (h.from_id, h.to_id)
    await policy.may_move_handoff(ctx, h)
    if stage == "won":  # credited and celebrated once, by the same code as `win H-n`
        amount_cents, note = split_amount(note or "")  # `won 120k signed on Friday`: an amount, then a note
        return await record_win(ctx, h, amount_cents=amount_cents, note=note)
    if h.declined_at:
        raise UserError(f"{h.ref} was declined; hand it over again to restart it.")
    if h.stage in CLOSED:
        raise UserError(f"{h.ref} is already {h.stage}.")
    if stage not in CLOSED and STAGES.index(stage) <= STAGES.index(h.stage):
        raise UserError(f"{h.ref} is already {h.stage}; stages only move forward.")
    await set_stage(ctx, h, stage, note)
    other_id = h.to_id if ctx.caller.id == h.from_id else h.from_id
    others = {other_id} if ctx.caller.id in reps else set(reps)
    for person in (await ctx.store.people(others)).values():
        await ctx.notify(person, f"handoff.stage.{stage}", h.ref, Reply(
            f"{ctx.caller.display_name} moved {h.ref} ({h.account}) to {stage}." + (f" Note: {note}" if note else "")))
    return Reply(f"{h.ref} ({h.account}) is now {stage}." + (f" Note: {note}" if note else ""))


VERBS = [
    Verb("handoff", (
        "handoff @rep <account>: <need> [by <date>]",
        "handoff H-n positioned|introduced|delivered|lost [note]",
        "handoff H-n won [amount] [note]",
        "handoff H-n accept | handoff H-n decline [reason]",
        "handoff H-n withdraw <reason>",
        "handoff H-n",
    ), "hand a customer need to a partner rep, then move it along its stages", (
        "handoff @maria Acme Corp: needs a security review by fri",
        "handoff H-3 positioned value of the SIEM explained to the CISO",
        "handoff H-3 accept",
        "handoff H-3 withdraw sent to the wrong rep",
        "handoff H-3",
        "handoff H-3 won 120k signed on Friday",
    ), handoff),
]
