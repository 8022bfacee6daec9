"""idea, lead: brainstorm ideas become account leads (L-n) with an owner and a next activity."""
from __future__ import annotations

import re

from handlers.commitments import service as commitments
from handlers.kernel.context import Context
from handlers.kernel.dates import parse_date
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import MENTION, parse_ref, split_by_date, tail_mention
from handlers.kernel.model import Card, Fact, Reply
from handlers.kernel.registry import Verb
from handlers.kernel.text import lead_line
from handlers.leads.service import parse_amount, split_amount
from handlers.meetings.service import find_meeting
from handlers.partnerships import policy
from handlers.wins.service import record_win
from storage.models import Lead, Meeting, Partnership

_MEETING = re.compile(r"#?[Mm]-?\d{1,9}")


def split_idea(text: str) -> tuple[str, str | None, str | None]:
    """What follows `idea <account>:` → (the idea, `owner @rep` mention, `M-n`). Linear: the
    two tails are found by the last words (grammar.tail_mention), not by regex searches from
    every blank."""
    text, owner_token, meeting_token = text.strip(), None, None
    while True:  # `owner @rep` and `M-n` may come in either order at the end
        words = text.rsplit(None, 1)
        if not owner_token and (found := tail_mention(" " + text, "owner")):
            owner_token, text = found.mention, (" " + text)[: found.start].strip()
        elif not meeting_token and words and _MEETING.fullmatch(words[-1]):
            meeting_token, text = words[-1], (words[0] if len(words) == 2 else "").strip()
        else:
            return text, owner_token, meeting_token


def split_next(text: str) -> tuple[str, str | None]:
    """What follows `lead L-n next` → (activity and date, the owner's mention ending it)."""
    found = tail_mention(" " + text)
    return ((" " + text)[: found.start].strip(), found.mention) if found else (text, None)


# --- idea ----------------------------------------------------------------------------------
async def idea(ctx: Context, args: str) -> Reply:
    account, colon, text = args.strip().partition(":")
    account = " ".join(account.split())
    if not colon or not account:
        raise UserError("Start with the account, then a colon: `idea Acme: cross-sell the analytics add-on`.")
    text, owner_token, meeting_token = split_idea(text)
    if not text:
        raise UserError(f"Say the idea after `{account}:`.")
    owner = ctx.caller
    if owner_token:
        mention = MENTION.match(owner_token)
        owner = await ctx.mentioned_person(mention.group(1), mention.group(2))
    meeting = await _meeting_of_idea(ctx, meeting_token)
    partnership_id = meeting.partnership_id if meeting else await _partnership_of_channel(ctx)
    # the lead lives where its partnership does, so its L-n reads the same in both channels
    workspace_id = ctx.workspace.id
    if partnership_id:
        workspace_id = (await ctx.store.get(Partnership, partnership_id)).workspace_id
    lead = Lead(workspace_id=workspace_id, number=await ctx.store.next_number(workspace_id, Lead.KIND), account=account,
                idea=text, owner_id=owner.id, created_by_id=ctx.caller.id,
                meeting_id=meeting.id if meeting else None, partnership_id=partnership_id, created_at=ctx.now)
    await ctx.store.add(lead)
    ref = lead.ref
    await ctx.log("lead.created", ref, after={"account": account, "idea": text, "owner_id": owner.id,
                                              "meeting": meeting.ref if meeting else None},
                  workspace_id=lead.workspace_id)
    linked = f" Linked to {meeting.ref} ({meeting.purpose})." if meeting else ""
    if owner.id != ctx.caller.id:
        await ctx.notify(owner, "lead.assigned", ref, Reply(
            f"{ctx.caller.display_name} made you the owner of lead {ref}: {account} — {text}. Give it a next "
            f"activity: `lead {ref} next <activity> by <date>`.",
            cards=(Card(title=f"Lead {ref} is yours", text=f"{account}: {text}",
                        facts=(Fact("From", ctx.caller.display_name),)),),
        ))
    whose = "yours" if owner.id == ctx.caller.id else f"owned by {owner.display_name} (they've been told)"
    return Reply(f"Lead {ref} created: {account} — {text}; {whose}.{linked} "
                 f"Next activity: `lead {ref} next <activity> by <date>`.")


async def _meeting_of_idea(ctx: Context, token: str | None) -> Meeting | None:
    """The meeting named, else the open meeting of this channel, else none."""
    if token:
        meeting = await find_meeting(ctx, token)
        if meeting.closed_at:
            raise UserError(f"{meeting.ref} is closed; an idea belongs to an open meeting (or to none: leave "
                            f"out {meeting.ref}).")
        return meeting
    if ctx.channel:
        return await ctx.store.open_meeting_in_channel(ctx.workspace.id, ctx.channel, ctx.now)
    return None


async def _partnership_of_channel(ctx: Context) -> int | None:
    if not ctx.channel:
        return None
    bound = await ctx.store.partnerships_bound_to(ctx.workspace.id, ctx.channel)
    return bound[0] if len(bound) == 1 else None


# --- lead ----------------------------------------------------------------------------------
async def lead(ctx: Context, args: str) -> Reply:
    token, _, rest = args.strip().partition(" ")
    if not token:
        raise UserError("Say which lead: `lead L-1 next <activity> by <date>`.")
    number = parse_ref(token, "L")
    if number is None:
        raise UserError(f"'{token}' is not a lead reference like L-1.")
    found = await ctx.store.lead_for(ctx.workspace.id, number, ctx.caller.id, ctx.channel)
    if found is None:
        raise UserError(f"There is no lead L-{number} here.")
    action, _, rest = rest.strip().partition(" ")
    action = action.lower()
    if not action:
        return await _show(ctx, found)
    actions = {"next": _next, "won": _won, "lost": _lost}
    if action not in actions:
        raise UserError(f"'{action}' is not something a lead does: next, won or lost.")
    await policy.may_change_lead(ctx, found)
    if found.status != "open":
        fix = f" To correct its amount: `win {found.ref} amount <amount>`." if found.status == "won" else ""
        raise UserError(f"{found.ref} is already {found.status}.{fix}")
    return await actions[action](ctx, found, rest.strip())


async def _next(ctx: Context, found: Lead, text: str) -> Reply:
    owner = ctx.caller
    text, owner_token = split_next(text)
    if owner_token:
        mention = MENTION.match(owner_token)
        owner = await ctx.mentioned_person(mention.group(1), mention.group(2))
    what, date_phrase = split_by_date(text, ctx.today)
    if date_phrase is None:
        raise UserError(f"A next activity needs a date: `lead {found.ref} next <activity> by <date>`.")
    if not what:
        raise UserError("Say what the next activity is before `by`.")
    c = await commitments.create(ctx, owner, what, due_date=parse_date(date_phrase, ctx.today),
                                 workspace_id=found.workspace_id, lead_id=found.id, account=found.account)
    return Reply(f"{commitments.saved_text(ctx, c, owner)} It is the next activity of {found.ref} ({found.account}).")


async def _won(ctx: Context, found: Lead, text: str) -> Reply:
    # credited and celebrated once, by the same code as `win L-n`; `won 120k signed on Friday`:
    # an amount, then a note; anything else after `won` is refused as an amount
    amount_cents, note = split_amount(text)
    if text and amount_cents is None:
        parse_amount(text)  # raises: I can't read … as an amount
    return await record_win(ctx, found, amount_cents=amount_cents, note=note)


async def _lost(ctx: Context, found: Lead, reason: str) -> Reply:
    if not reason:
        raise UserError(f"Say why it was lost, so the partnership learns from it: `lead {found.ref} lost <reason>`.")
    before = {"status": found.status}
    found.status, found.close_reason, found.closed_at = "lost", reason, ctx.now
    await ctx.log("lead.lost", found.ref, before=before, after={"status": "lost", "reason": reason},
                  workspace_id=found.workspace_id)
    return Reply(f"{found.ref} lost: {found.account} — {found.idea}. Reason: {reason}.")


async def _show(ctx: Context, found: Lead) -> Reply:
    people = await ctx.store.people({found.owner_id, found.created_by_id})
    next_activity = (await ctx.store.next_activities([found.id])).get(found.id)
    line = lead_line(found, people, next_activity, ctx.tz)
    return Reply(line, cards=(Card(title=f"{found.ref} · {found.account}", text=found.idea,
                                   facts=(Fact("Owner", people[found.owner_id].display_name),
                                          Fact("Raised by", people[found.created_by_id].display_name),
                                          Fact("Status", line.rsplit(" · ", 1)[-1]))),))


VERBS = [
    Verb("idea", ("idea <account>: <idea> [owner @rep] [M-n]",),
         "turn a brainstorm idea into an account lead (linked to this channel's open meeting)", (
             "idea Acme: cross-sell the analytics add-on",
             "idea Globex: joint webinar for their finance team owner @maria",
         ), idea),
    Verb("lead", ("lead L-n next <activity> by <date> [@owner]", "lead L-n won [amount] [note]",
                  "lead L-n lost <reason>"),
         "a lead's next activity, or close it as won or lost", (
             "lead L-2 next demo with their CTO by fri", "lead L-2 won 120k", "lead L-2 lost went with a competitor",
         ), lead),
]
