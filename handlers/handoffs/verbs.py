"""handoff: a rep hands a customer need to a partner rep, who accepts it; then it moves along stages."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.dates import parse_date
from handlers.kernel.grammar import parse_ref, split_by_date
from handlers.kernel.model import Button, Card, Fact, Reply
from handlers.kernel.registry import Verb
from storage.models import Handoff, Person

STAGES = ("identified", "positioned", "introduced", "delivered", "won", "lost")
CLOSED = ("won", "lost")
OPEN_STAGES = tuple(s for s in STAGES if s not in CLOSED)


def _snapshot(h: Handoff) -> dict:
    return {"stage": h.stage, "accepted": h.accepted_at is not None, "declined": h.declined_at is not None,
            "account": h.account, "need": h.need}


def _card(h: Handoff, giver: Person, title: str, buttons: tuple[Button, ...] = ()) -> Card:
    facts = [Fact("Account", h.account), Fact("Need", h.need), Fact("From", giver.display_name)]
    if h.due_date:
        facts.append(Fact("By", h.due_date.strftime("%a %d %b %Y")))
    return Card(title=title, text=f"{h.account}: {h.need}", facts=tuple(facts), buttons=buttons)


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
        workspace_id=ctx.workspace.id, number=await ctx.store.next_number(ctx.workspace.id, "H"),
        from_id=ctx.caller.id, to_id=receiver.id, account=account, need=need, due_date=due_date,
        stage_changed_at=ctx.now, created_at=ctx.now,
    )
    await ctx.store.add(h)
    ref = f"H-{h.number}"
    await ctx.log("handoff.created", ref, after=_snapshot(h))
    reachable = await ctx.notify(receiver, "handoff.offered", ref, Reply(
        f"{ctx.caller.display_name} handed you {ref}: {account} — {need}. Accept or decline it.",
        cards=(_card(h, ctx.caller, f"Handoff {ref} from {ctx.caller.display_name}", (
            Button("Accept", f"handoff {ref} accept", "primary"),
            Button("Decline", f"handoff {ref} decline", "danger"),
        )),),
    ))
    if not reachable:
        return Reply(f"{ref} handed to {receiver.display_name}: {account} — {need}. "
                     f"{receiver.display_name} has not talked to Partnerbot yet, so I can't message them; "
                     f"the request waits and reaches them as soon as they do.")
    return Reply(f"{ref} handed to {receiver.display_name}: {account} — {need}. "
                 f"I've asked them to accept it.")


async def _act_on(ctx: Context, args: str) -> Reply:
    token, _, rest = args.strip().partition(" ")
    action, _, note = rest.strip().partition(" ")
    action, note = action.lower(), note.strip() or None
    h = await ctx.store.handoff(ctx.workspace.id, ctx.ref_number(token, "H", "handoff"))
    if h is None:
        raise UserError(f"There is no handoff {token.upper()} here.")
    if not action:
        raise UserError(f"Say what happened to H-{h.number}: accept, decline or a stage ({', '.join(STAGES[1:])}).")
    if action in ("accept", "decline"):
        return await _answer(ctx, h, action, note)
    if action not in STAGES:
        raise UserError(f"'{action}' is not a stage. Stages: {' → '.join(STAGES[:-1])} | lost.")
    return await _move(ctx, h, action, note)


async def _answer(ctx: Context, h: Handoff, action: str, reason: str | None) -> Reply:
    ref = f"H-{h.number}"
    if h.to_id != ctx.caller.id:
        raise UserError(f"Only the rep {ref} was handed to can accept or decline it.")
    if h.accepted_at or h.declined_at:
        done = "accepted" if h.accepted_at else "declined"
        raise UserError(f"{ref} was already {done}.")
    before = _snapshot(h)
    if action == "accept":
        h.accepted_at = ctx.now
    else:
        h.declined_at, h.decline_reason = ctx.now, reason
    verb = "accepted" if action == "accept" else "declined"
    await ctx.log(f"handoff.{verb}", ref, before=before, after=_snapshot(h))
    giver = await ctx.store.get_person(h.from_id)
    why = f" Reason: {reason}." if reason else ""
    await ctx.notify(giver, f"handoff.{verb}", ref, Reply(
        f"{ctx.caller.display_name} {verb} {ref}: {h.account} — {h.need}.{why}"))
    return Reply(
        f"You {verb} {ref}: {h.account} — {h.need}. {giver.display_name} has been told.",
        cards=(_card(h, giver, f"Handoff {ref} — {verb}"),),
        replace_source=ctx.command.from_button,
    )


async def may_move(ctx: Context, h: Handoff, doing: str = "move it") -> None:
    """Its two reps or a manager of either."""
    reps = (h.from_id, h.to_id)
    if ctx.caller.id not in reps and not await ctx.store.is_manager_of(ctx.caller.id, *reps):
        raise UserError(f"Only the two reps of H-{h.number} or their managers can {doing}.")


async def set_stage(ctx: Context, h: Handoff, stage: str, note: str | None) -> None:
    before = _snapshot(h)
    h.stage, h.stage_changed_at = stage, ctx.now
    await ctx.log("handoff.stage", f"H-{h.number}", before=before, after={**_snapshot(h), "note": note})


async def _move(ctx: Context, h: Handoff, stage: str, note: str | None) -> Reply:
    ref = f"H-{h.number}"
    reps = (h.from_id, h.to_id)
    await may_move(ctx, h)
    if stage == "won":  # credited and celebrated once, by the same code as `win H-n`
        from handlers.wins.service import record_win  # imported here: wins builds on this module

        return await record_win(ctx, h, note=note)
    if h.declined_at:
        raise UserError(f"{ref} was declined; hand it over again to restart it.")
    if h.stage in CLOSED:
        raise UserError(f"{ref} is already {h.stage}.")
    if stage not in CLOSED and STAGES.index(stage) <= STAGES.index(h.stage):
        raise UserError(f"{ref} is already {h.stage}; stages only move forward.")
    await set_stage(ctx, h, stage, note)
    other_id = h.to_id if ctx.caller.id == h.from_id else h.from_id
    others = {other_id} if ctx.caller.id in reps else set(reps)
    for person in (await ctx.store.people(others)).values():
        await ctx.notify(person, f"handoff.stage.{stage}", ref, Reply(
            f"{ctx.caller.display_name} moved {ref} ({h.account}) to {stage}." + (f" Note: {note}" if note else "")))
    return Reply(f"{ref} ({h.account}) is now {stage}." + (f" Note: {note}" if note else ""))


VERBS = [
    Verb("handoff", (
        "handoff @rep <account>: <need> [by <date>]",
        "handoff H-n positioned|introduced|delivered|won|lost [note]",
        "handoff H-n accept | handoff H-n decline [reason]",
    ), "hand a customer need to a partner rep, then move it along its stages", (
        "handoff @maria Acme Corp: needs a security review by fri",
        "handoff H-3 positioned value of the SIEM explained to the CISO",
        "handoff H-3 accept",
    ), handoff),
]
