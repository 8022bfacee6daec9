"""Wins: a won handoff or lead, credited once to everyone who made it happen, and celebrated.

`win H-n|L-n`, `handoff H-n won` and `lead L-n won` all end in `record_win`, so a win is
recorded, credited and celebrated by one code path, once.
"""
from __future__ import annotations

from handlers.handoffs.service import set_stage
from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.model import Card, Fact, Mention, Reply
from handlers.kernel.outbound import to_channel, to_person
from handlers.kernel.text import amount_text
from handlers.partnerships import policy
from handlers.wins import credit
from storage.models import Handoff, Lead, Partnership, PartnershipChannel, Person, Win, WinCredit

Record = Handoff | Lead


# --- recording a win -----------------------------------------------------------------------
async def record_win(ctx: Context, record: Record, *, amount_cents: int | None = None,
                     note: str | None = None) -> Reply:
    """Close the record as won, store the win with its credit split, post the celebration.
    The caller has already been checked as someone who may change the record."""
    ref = record.ref
    await _refuse_unless_winnable(ctx, record, ref)
    is_handoff = isinstance(record, Handoff)
    originator_id, deliverer_id = (record.from_id, record.to_id) if is_handoff else \
        (record.created_by_id, record.owner_id)
    contributor_ids = await (ctx.store.kept_by(handoff_id=record.id) if is_handoff
                             else ctx.store.kept_by(lead_id=record.id))
    settings = ctx.settings.credit
    shares = credit.Shares(float(settings.originator), float(settings.deliverer), float(settings.contributors))
    credits = credit.split(originator_id, deliverer_id, contributor_ids, shares)

    if is_handoff:
        await set_stage(ctx, record, "won", note)
    else:
        before = {"status": record.status}
        record.status, record.amount_cents, record.closed_at = "won", amount_cents, ctx.now
        await _log(ctx, record, "lead.won", before=before, after={"status": "won", "amount_cents": amount_cents})
    won = Win(workspace_id=record.workspace_id, record=ref, handoff_id=record.id if is_handoff else None,
              lead_id=None if is_handoff else record.id, amount_cents=amount_cents, won_by_id=ctx.caller.id,
              won_at=ctx.now)
    await ctx.store.add(won)  # the unique record of the win: a concurrent second one fails here
    await ctx.store.add(*(WinCredit(win_id=won.id, person_id=c.person_id, roles=",".join(c.roles), share=c.share)
                          for c in credits))
    await _log(ctx, record, "win.recorded", after={
        "amount_cents": amount_cents, "note": note,
        "credit": [{"person_id": c.person_id, "roles": ",".join(c.roles), "share": c.share} for c in credits]})

    people = await ctx.store.people({c.person_id for c in credits} | {ctx.caller.id})
    lines = _credit_lines(credits, people, amount_cents)
    moved = _moved_text(people, originator_id, deliverer_id) \
        if credit.contributors_share_moved(contributor_ids, shares) else ""
    worth = f" ({amount_text(amount_cents)})" if amount_cents is not None else ""
    what = f"{record.account} — {record.need if is_handoff else record.idea}"
    celebration = Reply(
        "\n".join([f"🎉 Win: {ref} {what}{worth}, recorded by {ctx.caller.display_name}.", *lines]) +
        (f"\n{moved}" if moved else ""),
        cards=(Card(title=f"🎉 Win: {ref} {record.account}",
                    text=" ".join(filter(None, [f"{what}{worth}.", moved])),
                    facts=tuple(Fact(people[c.person_id].display_name, _credit_value(c, cents))
                                for c, cents in zip(credits, _amounts(credits, amount_cents), strict=True))),),
        mentions=tuple(Mention(people[c.person_id].display_name, c.person_id) for c in credits),  # to notify them
    )
    where = await _celebrate(ctx, record, ref, celebration, credits, people)
    said = f" Note: {note}." if note else ""
    return Reply(f"{ref} won{worth}: {what}.{said} Credit: {'; '.join(lines)}." +
                 (f" {moved}" if moved else "") + (f" {where}" if where else ""))


# --- correcting its amount -----------------------------------------------------------------
async def correct_amount(ctx: Context, record: Record, amount_cents: int) -> Reply:
    """`win H-n|L-n amount <amount>`: the recorded win's amount, and a won lead's, become
    `amount_cents`; logged with each credited person's amount before and after. The credit
    rows keep their shares (an amount is always share × the win's amount, so they follow it);
    the celebration is not posted again. The caller has already been checked as someone who
    may win the record."""
    ref = record.ref
    won = await ctx.store.win_of(record.workspace_id, ref)
    if won is None:
        raise UserError(f"{ref} has no win recorded yet, so there is no amount to correct; record it with "
                        f"`win {ref} <amount>`.")
    if won.amount_cents == amount_cents:
        raise UserError(f"{ref}'s win is already recorded at {amount_text(amount_cents)}.")
    credits = [credit.Credit(c.person_id, tuple(c.roles.split(",")), c.share)
               for c in await ctx.store.credits_of(won.id)]
    credits.sort(key=lambda c: (-round(c.share, 9), credit.ROLES.index(c.roles[0])))

    def amounts(cents: int | None) -> list[dict]:
        return [{"person_id": c.person_id, "amount_cents": part}
                for c, part in zip(credits, _amounts(credits, cents), strict=True)]

    before = {"amount_cents": won.amount_cents, "credit": amounts(won.amount_cents)}
    was = amount_text(won.amount_cents) if won.amount_cents is not None else "no amount"
    won.amount_cents = amount_cents
    if isinstance(record, Lead):
        record.amount_cents = amount_cents
    await _log(ctx, record, "win.amount", before=before,
               after={"amount_cents": amount_cents, "credit": amounts(amount_cents)})
    people = await ctx.store.people({c.person_id for c in credits})
    lines = _credit_lines(credits, people, amount_cents)
    return Reply(f"{ref} ({record.account}): the win's amount is now {amount_text(amount_cents)} (was {was}). "
                 f"Credit: {'; '.join(lines)}. The celebration is not posted again.")


async def _refuse_unless_winnable(ctx: Context, record: Record, ref: str) -> None:
    won = await ctx.store.win_of(record.workspace_id, ref)
    if won is not None or (record.stage if isinstance(record, Handoff) else record.status) == "won":
        when = won.won_at if won else (record.stage_changed_at if isinstance(record, Handoff) else record.closed_at)
        raise UserError(f"{ref} was already won on {format_instant(when, ctx.tz)}; to correct its amount: "
                        f"`win {ref} amount <amount>`.")
    if isinstance(record, Handoff):
        if record.declined_at:
            raise UserError(f"{ref} was declined; hand it over again to restart it.")
        if record.stage == "lost":
            raise UserError(f"{ref} was lost; a lost handoff can't be won.")
        policy.may_win_handoff(record)
    elif record.status == "lost":
        raise UserError(f"{ref} was lost ({record.close_reason}); a lost lead can't be won.")


async def _log(ctx: Context, record: Record, action: str, before: dict | None = None,
               after: dict | None = None) -> None:
    """Logged in the record's workspace (a partnership's lead may be won from its other platform)."""
    await ctx.log(action, record.ref, before=before, after=after, workspace_id=record.workspace_id)


# --- how the split reads -------------------------------------------------------------------
def credited_amounts(credits: list[WinCredit], amount_cents: int | None) -> list[int | None]:
    """Each stored credit's part of a win's amount, in whole cents adding up to it exactly, split
    as the win's announcement split it (largest share first): the credit report and its CSV."""
    ordered = sorted(range(len(credits)), key=lambda i: (-credits[i].share, credits[i].person_id))
    parts = _amounts([credit.Credit(credits[i].person_id, tuple(credits[i].roles.split(",")), credits[i].share)
                      for i in ordered], amount_cents)
    out: list[int | None] = [None] * len(credits)
    for i, cents in zip(ordered, parts, strict=True):
        out[i] = cents
    return out


def _amounts(credits: list[credit.Credit], amount_cents: int | None) -> list[int | None]:
    return credit.amounts(credits, amount_cents) if amount_cents is not None else [None] * len(credits)


def _credit_value(c: credit.Credit, cents: int | None) -> str:
    """'30% (36,000) · originator'."""
    worth = f" ({amount_text(cents)})" if cents is not None else ""
    return f"{credit.percent(c.share)}{worth} · {', '.join(c.roles)}"


def _credit_lines(credits: list[credit.Credit], people: dict[int, Person], amount_cents: int | None) -> list[str]:
    """'ana 30% (36,000) · originator', one per credited person, largest share first."""
    return [f"{people[c.person_id].display_name} {_credit_value(c, cents)}"
            for c, cents in zip(credits, _amounts(credits, amount_cents), strict=True)]


def _moved_text(people: dict[int, Person], originator_id: int, deliverer_id: int) -> str:
    names = list(dict.fromkeys(people[i].display_name for i in (originator_id, deliverer_id)))
    return f"No contributors (nobody kept a commitment linked to it): their share went to {' and '.join(names)}."


# --- the celebration -----------------------------------------------------------------------
async def _celebrate(ctx: Context, record: Record, ref: str, celebration: Reply, credits: list[credit.Credit],
                     people: dict[int, Person]) -> str:
    """Post in every bound channel of the record's partnerships; with none, message each
    credited person but the caller. Returns what the caller is told about it."""
    if isinstance(record, Handoff):
        partnership_ids = await ctx.store.partnerships_of_both(record.from_id, record.to_id)
    else:
        partnership_ids = [record.partnership_id] if record.partnership_id else []
    bindings: list[PartnershipChannel] = []
    names = []
    for partnership_id in partnership_ids:
        bound = await ctx.store.channels(partnership_id)
        if bound:
            p = await ctx.store.get(Partnership, partnership_id)
            names.append(f"{p.ref} {p.name}")
            bindings += bound
    for binding in bindings:
        await to_channel(ctx.store, binding, kind="win.celebration", record_workspace_id=record.workspace_id,
                         record=ref, period="-", reply=celebration, now=ctx.now)
    if bindings:
        return f"Celebrated in the bound channels of {' and '.join(names)}."
    told = [people[c.person_id] for c in credits if c.person_id != ctx.caller.id]
    for person in told:
        # in the record's workspace, like its channel posts, on the caller's platform when they are on it
        await to_person(ctx.store, workspace_id=record.workspace_id, person=person, kind="win.celebration",
                        record=ref, period="-", reply=celebration, now=ctx.now, prefer_platform=ctx.platform)
    return f"{' and '.join(p.display_name for p in told)} got the celebration." if told else ""

