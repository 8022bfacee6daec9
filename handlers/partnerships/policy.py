"""Who may do what, on whose records: every rule in one place.

Authority comes from a partnership (its two managers, its members) and from the manager a
rep was given when they joined a side (`partnership P-n add`). A verb asks here before it
changes anything; a `require_…`/`may_…` that refuses raises UserError with the answer the
caller sees, so the refusal reads the same wherever the rule applies.
"""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from storage.models import Ask, Commitment, Handoff, Lead, Meeting, Partnership, PartnershipMember, Person


# --- partnerships ------------------------------------------------------------------------------
async def membership(ctx: Context, p: Partnership) -> PartnershipMember | None:
    """The caller's place in `p` (side and role), or None."""
    return await ctx.store.member(p.id, ctx.caller.id)


async def manages(ctx: Context, p: Partnership) -> bool:
    """The caller is one of `p`'s two managers."""
    me = await membership(ctx, p)
    return me is not None and me.role == "manager"


async def require_member(ctx: Context, p: Partnership) -> PartnershipMember:
    me = await membership(ctx, p)
    if me is None:
        raise UserError(f"You are not a member of {p.ref}; ask one of its managers to add you.")
    return me


async def require_manager(ctx: Context, p: Partnership, doing: str) -> PartnershipMember:
    me = await membership(ctx, p)
    if me is None or me.role != "manager":
        raise UserError(f"Only the two managers of {p.ref} can {doing}.")
    return me


async def may_export(ctx: Context, p: Partnership) -> bool:
    """A member of either side (reps too), or the manager of one of its members."""
    if await membership(ctx, p) is not None:
        return True
    member_ids = [m.person_id for m in await ctx.store.members(p.id)]
    return await ctx.store.is_manager_of(ctx.caller.id, *member_ids)


# --- people ------------------------------------------------------------------------------------
async def is_manager_of(ctx: Context, *person_ids: int) -> bool:
    """The caller is the manager of one of these people."""
    return await ctx.store.is_manager_of(ctx.caller.id, *person_ids)


async def may_see(ctx: Context, person: Person) -> None:
    """Someone's scorecard: the person themselves, their manager, or a manager of a
    partnership they are in."""
    if person.id == ctx.caller.id or person.manager_id == ctx.caller.id:
        return
    theirs = {p.id for p in await ctx.store.member_partnerships(person.id)}
    if theirs & {p.id for p in await ctx.store.managed_partnerships(ctx.caller.id)}:
        return
    raise UserError(f"Only {person.display_name} and their managers can see their scorecard.")


# --- commitments -------------------------------------------------------------------------------
async def may_assign(ctx: Context, owner: Person) -> None:
    """A commitment for someone else: only their manager gives them one."""
    if owner.id != ctx.caller.id and not await is_manager_of(ctx, owner.id):
        raise UserError(f"Only {owner.display_name}'s manager can assign them a commitment; "
                        f"ask them to commit themselves.")


async def may_change_commitment(ctx: Context, c: Commitment) -> None:
    """Done, drop, snooze: its owner or their manager."""
    if c.owner_id != ctx.caller.id and not await is_manager_of(ctx, c.owner_id):
        owner = await ctx.store.get_person(c.owner_id)
        raise UserError(f"{c.ref} belongs to {owner.display_name}; only they or their manager can change it.")


# --- handoffs ----------------------------------------------------------------------------------
def may_answer_handoff(ctx: Context, h: Handoff) -> None:
    """Accept or decline: only the rep it was handed to."""
    if h.to_id != ctx.caller.id:
        raise UserError(f"Only the rep {h.ref} was handed to can accept or decline it.")


async def may_move_handoff(ctx: Context, h: Handoff, doing: str = "move it") -> None:
    """A stage, or its win: its two reps or a manager of either."""
    reps = (h.from_id, h.to_id)
    if ctx.caller.id not in reps and not await is_manager_of(ctx, *reps):
        raise UserError(f"Only the two reps of {h.ref} or their managers can {doing}.")


# --- leads -------------------------------------------------------------------------------------
async def may_change_lead(ctx: Context, lead: Lead) -> None:
    """Its owner, its originator, the owner's manager, or a manager of its partnership."""
    caller = ctx.caller.id
    if caller in (lead.owner_id, lead.created_by_id) or await is_manager_of(ctx, lead.owner_id):
        return
    if lead.partnership_id:
        member = await ctx.store.member(lead.partnership_id, caller)
        if member is not None and member.role == "manager":
            return
    owner = await ctx.store.get_person(lead.owner_id)
    raise UserError(f"{lead.ref} belongs to {owner.display_name}; only they, whoever raised it, or a manager "
                    f"can change it.")


# --- meetings ----------------------------------------------------------------------------------
async def runs_meeting(ctx: Context, m: Meeting) -> bool:
    """Close it, stop its series, give action items to others: the organiser, a manager of
    the partnership, or the organiser's own manager."""
    if ctx.caller.id == m.organiser_id:
        return True
    member = await ctx.store.member(m.partnership_id, ctx.caller.id)
    return (member is not None and member.role == "manager") or await is_manager_of(ctx, m.organiser_id)


# --- asks --------------------------------------------------------------------------------------
def may_respond(ctx: Context, a: Ask, person: Person) -> None:
    """Accept, decline or answer: only the person asked."""
    if a.person_id != ctx.caller.id:
        raise UserError(f"{a.ref} is someone else's record: only {person.display_name}, who was asked, "
                        f"can accept, decline or answer it.")
