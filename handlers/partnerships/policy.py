"""Who may do what, on whose records: every rule in one place (README, "Who may do what").

Authority comes from somewhere: an admin (Slack workspace owners and admins, the ids in
setting `admins`, whoever runs the console), a partnership both managers accepted (its two
managers, its members, each of whom accepted joining), and a person's manager, who was set by
an admin or accepted by the rep when joining a side. Nobody gains authority by their own
command. A verb asks here before it changes anything; a `require_…`/`may_…` that refuses
raises UserError with the answer the caller sees, so the refusal reads the same wherever the
rule applies.
"""
from __future__ import annotations

from dataclasses import dataclass

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from storage.models import (
    Ask,
    Commitment,
    Handoff,
    Lead,
    Meeting,
    MeetingSeries,
    Partnership,
    PartnershipInvite,
    PartnershipMember,
    Person,
)
from storage.store import Store


# --- admins ------------------------------------------------------------------------------------
def is_admin(ctx: Context) -> bool:
    """A Slack workspace owner or admin (the platform says so), a platform id listed in
    setting `admins` ("slack:T1:U123", "teams:<tenant>:<aad id>"), or whoever runs the console."""
    cmd = ctx.command
    return (cmd.platform == "console" or cmd.platform_admin
            or f"{cmd.platform}:{cmd.workspace}:{cmd.user}" in ctx.settings.admins)


def require_admin(ctx: Context, doing: str) -> None:
    if not is_admin(ctx):
        raise UserError(f"Only an admin can {doing} (Slack workspace owners and admins, or the ids in the "
                        f"`admins` setting).")


# --- private links ---------------------------------------------------------------------------
# Platforms where a reply typed in a channel is seen by everyone there; a Slack slash command is
# answered only to its caller, the console is the caller's own terminal.
_PUBLIC_CHANNEL_REPLIES = frozenset({"teams"})


def require_private(ctx: Context, refusal: str) -> None:
    """A reply holding a secret link (an export, a dashboard sign-in, a calendar feed) goes only
    where its caller alone reads it: `refusal` otherwise."""
    if ctx.platform in _PUBLIC_CHANNEL_REPLIES and not ctx.command.is_direct:
        raise UserError(refusal)


# --- partnerships ------------------------------------------------------------------------------
def require_accepted(p: Partnership, doing: str) -> None:
    """A partnership the peer manager has not accepted holds no syncs, pulses or agreements."""
    if p.status == "pending":
        raise UserError(f"{p.ref} {p.name} is pending: its peer manager has not accepted it yet, so you cannot "
                        f"{doing}. They accept with `partnership {p.ref} accept`.")
    if p.status == "declined":
        raise UserError(f"{p.ref} {p.name} was declined by its peer manager; start a new one with "
                        f"`partnership new <name> with @manager`.")


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


async def may_add_to_side(ctx: Context, p: Partnership, side: str | None) -> PartnershipMember:
    """Only a side's own manager adds people to that side, once the partnership is accepted."""
    me = await require_manager(ctx, p, "add people to it")
    require_accepted(p, "add people to it")
    if side is not None and side != me.side:
        raise UserError(f"You manage side {me.side.upper()} of {p.ref}; only side {side.upper()}'s manager adds "
                        f"people to side {side.upper()}.")
    return me


async def may_remove(ctx: Context, p: Partnership, member: PartnershipMember, person: Person) -> None:
    """A rep leaves, or their side's manager takes them off; the two managers stay."""
    if member.role == "manager":
        raise UserError(f"{person.display_name} manages side {member.side.upper()} of {p.ref}: a partnership keeps "
                        f"its two managers.")
    if person.id == ctx.caller.id:
        return
    me = await membership(ctx, p)
    if me is None or me.role != "manager" or me.side != member.side:
        raise UserError(f"Only {person.display_name} or the manager of side {member.side.upper()} of {p.ref} can "
                        f"take them off it.")


def may_withdraw_invite(ctx: Context, invite: PartnershipInvite, person: Person) -> None:
    """An invitation not yet answered: whoever sent it takes it back, or the person declines it."""
    if ctx.caller.id not in (invite.invited_by_id, invite.person_id):
        raise UserError(f"Only {person.display_name} or whoever invited them can withdraw the invitation.")


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


async def can_see(ctx: Context, person: Person) -> bool:
    """The person themselves, their manager, or a manager of a partnership they are in."""
    if person.id == ctx.caller.id or person.manager_id == ctx.caller.id:
        return True
    theirs = {p.id for p in await ctx.store.member_partnerships(person.id)}
    return bool(theirs & {p.id for p in await ctx.store.managed_partnerships(ctx.caller.id)})


async def may_see(ctx: Context, person: Person, what: str = "scorecard") -> None:
    """Someone's scorecard or list: can_see."""
    if not await can_see(ctx, person):
        raise UserError(f"Only {person.display_name} and their managers can see their {what}.")


async def may_see_record(ctx: Context, ref: str, *people: Person) -> None:
    """One record with its history (`commit C-n`, `handoff H-n`, `ask Q-n`): whoever may see
    the list of one of its people (its owner; a handoff's two reps; an ask's asker and asked)."""
    for person in people:
        if await can_see(ctx, person):
            return
    names = " or ".join(p.display_name for p in people)
    raise UserError(f"Only {names} and their managers can see {ref}.")


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


async def may_reopen_commitment(ctx: Context, c: Commitment) -> None:
    """Reopen a mistaken `done` or `drop`: its owner or their manager, as for closing it."""
    if c.owner_id != ctx.caller.id and not await is_manager_of(ctx, c.owner_id):
        owner = await ctx.store.get_person(c.owner_id)
        raise UserError(f"{c.ref} belongs to {owner.display_name}; only they or their manager can reopen it.")


# --- handoffs ----------------------------------------------------------------------------------
def may_answer_handoff(ctx: Context, h: Handoff) -> None:
    """Accept or decline: only the rep it was handed to."""
    if h.to_id != ctx.caller.id:
        raise UserError(f"Only the rep {h.ref} was handed to can accept or decline it.")


def may_withdraw_handoff(ctx: Context, h: Handoff) -> None:
    """Withdraw: only the rep who handed it over, and only before the receiver accepted it."""
    if h.from_id != ctx.caller.id:
        raise UserError(f"Only the rep who handed over {h.ref} can withdraw it.")
    if h.accepted_at is not None:
        raise UserError(f"{h.ref} was accepted already, so it cannot be withdrawn; mark it lost with a note "
                        f"instead: `handoff {h.ref} lost <note>`.")


async def may_move_handoff(ctx: Context, h: Handoff, doing: str = "move it") -> None:
    """A stage, or its win: its two reps or a manager of either."""
    reps = (h.from_id, h.to_id)
    if ctx.caller.id not in reps and not await is_manager_of(ctx, *reps):
        raise UserError(f"Only the two reps of {h.ref} or their managers can {doing}.")


async def may_credit_handoff(ctx: Context, h: Handoff) -> None:
    """`commit … re H-n` earns credit when H-n is won: only its two reps and their managers."""
    reps = (h.from_id, h.to_id)
    if ctx.caller.id not in reps and not await is_manager_of(ctx, *reps):
        raise UserError(f"Only the two reps of {h.ref} or their managers can link commitments to it "
                        f"(they earn credit when it is won).")


def may_win_handoff(h: Handoff) -> None:
    """A win credits the receiving rep as its deliverer: only for work they agreed to."""
    if h.accepted_at is None:
        raise UserError(f"{h.ref} was never accepted by the rep it was handed to, so it cannot be won: they "
                        f"accept it first with `handoff {h.ref} accept`.")


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


async def may_credit_lead(ctx: Context, lead: Lead) -> None:
    """`commit … re L-n` earns credit when L-n is won: its owner, whoever raised it, the
    owner's manager, or a member of its partnership."""
    caller = ctx.caller.id
    if caller in (lead.owner_id, lead.created_by_id) or await is_manager_of(ctx, lead.owner_id):
        return
    if lead.partnership_id and await ctx.store.member(lead.partnership_id, caller) is not None:
        return
    raise UserError(f"Only {lead.ref}'s owner, whoever raised it, or members of its partnership can link "
                    f"commitments to it (they earn credit when it is won).")


# --- meetings ----------------------------------------------------------------------------------
async def runs_meeting(ctx: Context, m: Meeting | MeetingSeries) -> bool:
    """Close it, stop its series (a series also before its first meeting), give action items
    to others: the organiser, a manager of the partnership, or the organiser's own manager."""
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


# --- the web dashboard -------------------------------------------------------------------------
def sees_whole_workspace(ctx: Context) -> bool:
    """Admins and the ids in setting `executives`. Asked when the sign-in link is made (only the
    platform knows who is a workspace admin), and carried by the session it opens."""
    cmd = ctx.command
    return is_admin(ctx) or f"{cmd.platform}:{cmd.workspace}:{cmd.user}" in ctx.settings.executives


@dataclass(frozen=True)
class DashboardView:
    """What one signed-in person may see on the dashboard; every page asks here, and anything
    else is answered as if it did not exist."""

    viewer_id: int
    workspace_id: int
    whole_workspace: bool  # an admin or executive
    people: frozenset[int]  # whose person pages
    partnerships: frozenset[int]  # whose partnership pages (the overview's rows)
    reports: frozenset[int]  # who reports to the viewer, directly or below

    def may_see_person(self, person_id: int) -> bool:
        return person_id in self.people

    def may_see_partnership(self, partnership_id: int) -> bool:
        return partnership_id in self.partnerships

    @property
    def may_see_leaders(self) -> bool:
        return self.whole_workspace or bool(self.reports)

    @property
    def may_see_credit(self) -> bool:
        """Admins, executives, and managers (for their people): compensation is not a rep's page."""
        return self.whole_workspace or bool(self.reports)

    @property
    def credited_people(self) -> frozenset[int] | None:
        """Whose wins the credit report lists: None for every win of the workspace."""
        return None if self.whole_workspace else self.reports | {self.viewer_id}


async def dashboard_view(store: Store, viewer: Person, whole_workspace: bool) -> DashboardView:
    """A rep sees their own page and the partnerships they are in; a manager also the people
    below them and their partnerships, and (as `report @person` allows) the members of the
    partnerships they manage; admins and executives see the workspace's people and every
    partnership it takes part in (a linked workspace's shared ones included)."""
    reports = frozenset(await store.people_below(viewer.id))
    if whole_workspace:
        people = frozenset(await store.workspace_people(viewer.workspace_id))
        partnerships = frozenset(await store.partnerships_touching(viewer.workspace_id))
    else:
        own = reports | {viewer.id}
        managed = await store.partnerships_of_people([viewer.id], role="manager")
        people = own | await store.partnership_member_ids(managed)
        partnerships = frozenset(await store.partnerships_of_people(own))
    return DashboardView(viewer.id, viewer.workspace_id, whole_workspace, frozenset(people), partnerships, reports)
