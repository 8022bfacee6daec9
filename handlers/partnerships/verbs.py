"""partnership: two sides that sell together, their managers, reps, goals and channels."""
from __future__ import annotations

import re

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import MENTION, has_mention, parse_ref, tail_mention
from handlers.kernel.model import Button, Card, Fact, Reply
from handlers.kernel.registry import Verb
from handlers.kernel.rules import fire_at_or_after
from handlers.partnerships import charter, policy
from handlers.partnerships.service import find_partnership, fold_name, status_line
from handlers.people.service import set_manager
from storage.models import (
    Partnership,
    PartnershipChannel,
    PartnershipGoal,
    PartnershipInvite,
    PartnershipMember,
    Person,
    SyncSeries,
)

_NEW = re.compile(r"new\s", re.IGNORECASE)
_SIDE = re.compile(r"side", re.IGNORECASE)
_A_OR_B = re.compile(r"[ab]", re.IGNORECASE)


def split_new(args: str) -> tuple[str, str] | None:
    """'new <name> with @manager' → (name, the manager's mention); None when it is not that.
    Linear: the mention is found from the end (grammar.tail_mention), not by a lazy regex that
    tried `with @…` again after every character of the name. A name is one line."""
    if not _NEW.match(args):
        return None
    start = len(args) - len(args[3:].lstrip())  # where the name begins
    found = tail_mention(args, "with", start=start)
    if found is None or "\n" in args[start:found.start]:
        return None
    return args[start:found.start], found.mention


def split_side(rest: str) -> tuple[str, str | None]:
    """'@rep side b' → ('@rep', 'b'); without `side a|b` at the end, (rest, None). By its last words."""
    words = rest.rsplit(None, 2)
    if len(words) == 3 and _SIDE.fullmatch(words[1]) and _A_OR_B.fullmatch(words[2]):
        return words[0], words[2].lower()
    return rest, None


async def partnership(ctx: Context, args: str) -> Reply:
    words = args.strip().split(maxsplit=2)
    if not words:
        raise UserError("Say what to do: `partnership new <name> with @manager` or `partnership P-1 …`.")
    if words[0].lower() == "new":
        return await _create(ctx, args.strip())
    if parse_ref(words[0], "P") is None:
        raise UserError(f"'{words[0]}' is neither `new` nor a partnership reference like P-1.")
    p = await find_partnership(ctx, words[0])
    action = words[1].lower() if len(words) > 1 else "show"
    rest = words[2] if len(words) > 2 else ""
    actions = {"add": _add, "remove": _remove, "goal": _goal, "channel": _channel, "show": _show,
               "charter": _charter, "rule": _rule, "agree": _agree, "accept": _accept, "decline": _decline}
    if action not in actions:
        raise UserError(f"'{action}' is not something a partnership does: add, remove, goal, channel, charter, "
                        f"rule, agree, accept or decline.")
    return await actions[action](ctx, p, rest.strip())


async def _create(ctx: Context, args: str) -> Reply:
    parsed = split_new(args)
    if not parsed:
        if not has_mention(args):
            raise UserError("Mention the peer manager with @: `partnership new Acme Alliance with @dana`.")
        raise UserError("Name the partnership, then `with @manager`.")
    name = " ".join(parsed[0].split())
    mention = MENTION.match(parsed[1])
    peer = await ctx.mentioned_person(mention.group(1), mention.group(2))
    if peer.id == ctx.caller.id:
        raise UserError("A partnership needs a peer manager other than you; mention them.")
    if await ctx.store.partnership_named(ctx.workspace.id, fold_name(name)):
        raise UserError(f"There is already a partnership called '{name}' here.")
    number = await ctx.store.next_number(ctx.workspace.id, Partnership.KIND)
    p = Partnership(workspace_id=ctx.workspace.id, number=number, name=name, name_key=fold_name(name),
                    created_by_id=ctx.caller.id, created_at=ctx.now, status="pending")
    await ctx.store.add(p)
    # the caller manages side A from now; the peer manages side B once they accept
    ctx.store.stage(PartnershipMember(partnership_id=p.id, person_id=ctx.caller.id, side="a", role="manager",
                                      added_at=ctx.now),
                    PartnershipInvite(partnership_id=p.id, person_id=peer.id, side="b", role="manager",
                                      invited_by_id=ctx.caller.id, invited_at=ctx.now))
    bound = await _bind_channel(ctx, p)
    await ctx.log("partnership.proposed", p.ref, after={"name": name, "manager_a": ctx.caller.id,
                                                        "manager_b": peer.id, "channel": bound})
    peer_reachable = await ctx.notify(peer, "partnership.proposed", p.ref, Reply(
        f"{ctx.caller.display_name} proposes {p.ref} {name} with you: they manage side A, you would manage "
        f"side B and hold a weekly peer sync with them. Accept with `partnership {p.ref} accept`, or decline.",
        cards=(Card(title=f"{p.ref} {name}", text=f"{ctx.caller.display_name} asks you to manage side B.",
                    facts=(Fact("Side A manager", ctx.caller.display_name),
                           Fact("Peer sync", _sync_rule_text(ctx) + " once accepted")),
                    buttons=_answer_buttons(p)),),
    ))
    where = " This channel is bound: digests are posted here." if bound else \
        f" Run `partnership {p.ref} channel` in a channel to post digests there."
    waiting = "" if peer_reachable else \
        f" {peer.display_name} has not talked to Partnerbot yet: they get the invitation once they do."
    return Reply(f"{p.ref} {name} proposed: you manage side A; it is pending until {peer.display_name} accepts "
                 f"to manage side B (no peer syncs or pulses before).{where}{waiting}")


def _answer_buttons(p: Partnership) -> tuple[Button, ...]:
    return (Button("Accept", f"partnership {p.ref} accept", "primary"),
            Button("Decline", f"partnership {p.ref} decline", "danger"))


def _new_series(ctx: Context, p: Partnership, person: Person) -> SyncSeries:
    """The manager's weekly peer-sync prompt, on their clock."""
    rule = ctx.settings.cadence.peer_sync
    tz = ctx.timezone_of(person)
    return SyncSeries(partnership_id=p.id, person_id=person.id, weekday=rule.weekday, time=rule.time, timezone=tz,
                      next_run_at=fire_at_or_after(rule.weekday, rule.time, tz, ctx.now))


def _sync_rule_text(ctx: Context) -> str:
    rule = ctx.settings.cadence.peer_sync
    return f"every {rule.weekday} at {rule.time}"


async def _bind_channel(ctx: Context, p: Partnership) -> str | None:
    """Bind the channel the command was typed in; None in a direct chat."""
    channel = ctx.channel
    if not channel:
        return None
    for bound in await ctx.store.channels(p.id):
        # a Slack channel shared by two companies is one channel: bound by either, it is bound
        if bound.channel == channel and (bound.workspace_id == ctx.workspace.id
                                         or bound.platform == ctx.platform == "slack"):
            raise UserError(f"This channel is already bound to {p.ref}.")
    ctx.store.stage(PartnershipChannel(partnership_id=p.id, workspace_id=ctx.workspace.id, channel=channel,
                                       platform=ctx.platform, bound_at=ctx.now))
    return channel


async def _add(ctx: Context, p: Partnership, rest: str) -> Reply:
    rest, side = split_side(rest)
    me = await policy.may_add_to_side(ctx, p, side)
    rep, extra = await ctx.take_person(rest, "the rep to add")
    if extra:
        raise UserError(f"I don't understand '{extra}'; mention one rep, e.g. `partnership {p.ref} add @maria`.")
    if existing := await ctx.store.member(p.id, rep.id):
        raise UserError(f"{rep.display_name} is already on side {existing.side.upper()} of {p.ref}.")
    if await ctx.store.invite(p.id, rep.id):
        raise UserError(f"{rep.display_name} is already invited to {p.ref}; they have not answered yet.")
    ctx.store.stage(PartnershipInvite(partnership_id=p.id, person_id=rep.id, side=me.side, role="rep",
                                      invited_by_id=ctx.caller.id, invited_at=ctx.now))
    await ctx.log("partnership.member_invited", p.ref, after={"person_id": rep.id, "side": me.side},
                  workspace_id=p.workspace_id)
    becomes = "" if rep.manager_id else f" Accepting makes {ctx.caller.display_name} your manager in Partnerbot."
    reachable = await ctx.notify(rep, "partnership.invited", p.ref, period=_moment(ctx), reply=Reply(
        f"{ctx.caller.display_name} invites you to side {me.side.upper()} of {p.ref} {p.name}.{becomes} "
        f"Accept with `partnership {p.ref} accept`, or decline.",
        cards=(Card(title=f"{p.ref} {p.name}", text=f"{ctx.caller.display_name} invites you to side "
                                                       f"{me.side.upper()}.{becomes}",
                    buttons=_answer_buttons(p)),),
    ))
    waiting = "" if reachable else " They have not talked to Partnerbot yet: they get it once they do."
    return Reply(f"{rep.display_name} is invited to {p.ref} {p.name}, side {me.side.upper()}: they join when they "
                 f"accept.{waiting}")


async def _accept(ctx: Context, p: Partnership, _rest: str) -> Reply:
    invite = await _own_invite(ctx, p)
    await ctx.store.remove(invite)
    ctx.store.stage(PartnershipMember(partnership_id=p.id, person_id=ctx.caller.id, side=invite.side,
                                      role=invite.role, added_at=ctx.now))
    inviter = await ctx.store.get_person(invite.invited_by_id)
    if invite.role == "manager":  # side B's manager: the partnership starts
        p.status, p.accepted_at = "active", ctx.now
        for person in (inviter, ctx.caller):
            ctx.store.stage(_new_series(ctx, p, person))
        await ctx.log("partnership.accepted", p.ref, after={"manager_b": ctx.caller.id}, workspace_id=p.workspace_id)
        when = _sync_rule_text(ctx)
        await ctx.notify(inviter, "partnership.accepted", p.ref, Reply(
            f"{ctx.caller.display_name} accepted {p.ref} {p.name}: they manage side B. Peer sync {when}, each "
            f"manager's own time."))
        return Reply(f"You manage side B of {p.ref} {p.name}; {inviter.display_name} manages side A. Your weekly "
                     f"peer sync prompt comes {when}, your time.")
    await ctx.log("partnership.member_added", p.ref, after={"person_id": ctx.caller.id, "side": invite.side},
                  workspace_id=p.workspace_id)
    note = ""
    if ctx.caller.manager_id is None:  # consent gives a manager only to someone who has none
        await set_manager(ctx, ctx.caller, inviter, caller_id=ctx.caller.id, prefer_platform=ctx.platform,
                          why=f"{ctx.caller.display_name} accepted to join side {invite.side.upper()} of {p.ref}")
        note = f" {inviter.display_name} is now your manager in Partnerbot."
    await ctx.notify(inviter, "partnership.member_added", p.ref, Reply(
        f"{ctx.caller.display_name} accepted: they are on side {invite.side.upper()} of {p.ref} {p.name}."),
        period=_moment(ctx))
    return Reply(f"You joined side {invite.side.upper()} of {p.ref} {p.name}.{note}")


async def _decline(ctx: Context, p: Partnership, rest: str) -> Reply:
    invite = await _own_invite(ctx, p)
    await ctx.store.remove(invite)
    inviter = await ctx.store.get_person(invite.invited_by_id)
    reason = f" ({rest})" if rest else ""
    if invite.role == "manager":
        # the name is free again: the declined proposal keeps its number and log under another key
        p.status, p.name_key = "declined", f"{p.name_key}#declined-{p.id}"
        await ctx.log("partnership.declined", p.ref, after={"reason": rest}, workspace_id=p.workspace_id)
        await ctx.notify(inviter, "partnership.declined", p.ref, Reply(
            f"{ctx.caller.display_name} declined {p.ref} {p.name}{reason}: it will not start."))
        return Reply(f"You declined {p.ref} {p.name}; {inviter.display_name} is told.")
    await ctx.log("partnership.invite_declined", p.ref, after={"person_id": ctx.caller.id, "reason": rest},
                  workspace_id=p.workspace_id)
    await ctx.notify(inviter, "partnership.invite_declined", p.ref, Reply(
        f"{ctx.caller.display_name} declined to join side {invite.side.upper()} of {p.ref} {p.name}{reason}."),
        period=_moment(ctx))
    return Reply(f"You declined to join {p.ref} {p.name}; {inviter.display_name} is told.")


def _moment(ctx: Context) -> str:
    """The outbox period of news that can happen again (a rep invited, removed, invited again):
    each time is its own message, where a plain record key would be sent once."""
    return f"{ctx.caller.id}@{ctx.now.isoformat()}"


async def _own_invite(ctx: Context, p: Partnership) -> PartnershipInvite:
    """Only the person invited answers an invitation."""
    invite = await ctx.store.invite(p.id, ctx.caller.id)
    if invite is None:
        if await ctx.store.member(p.id, ctx.caller.id):
            raise UserError(f"You are already a member of {p.ref} {p.name}.")
        raise UserError(f"You have no invitation to {p.ref} to answer; only the person invited can accept or "
                        f"decline it.")
    return invite


async def _remove(ctx: Context, p: Partnership, rest: str) -> Reply:
    person, extra = await ctx.take_person(rest, "the rep to take off")
    if extra:
        raise UserError(f"I don't understand '{extra}'; mention one rep: `partnership {p.ref} remove @maria`.")
    member = await ctx.store.member(p.id, person.id)
    if member is None:
        invite = await ctx.store.invite(p.id, person.id)
        if invite is None:
            raise UserError(f"{person.display_name} is not on {p.ref}.")
        policy.may_withdraw_invite(ctx, invite, person)
        await ctx.store.remove(invite)
        await ctx.log("partnership.invite_withdrawn", p.ref, after={"person_id": person.id},
                      workspace_id=p.workspace_id)
        if person.id == ctx.caller.id:  # as a decline: whoever invited them is told
            await ctx.notify(await ctx.store.get_person(invite.invited_by_id), "partnership.invite_declined", p.ref,
                             Reply(f"{person.display_name} declined to join side {invite.side.upper()} of {p.ref} "
                                   f"{p.name}."), period=_moment(ctx))
            return Reply(f"The invitation of {person.display_name} to {p.ref} {p.name} is withdrawn.")
        await ctx.notify(person, "partnership.invite_withdrawn", p.ref, Reply(
            f"{ctx.caller.display_name} withdrew your invitation to {p.ref} {p.name}: there is nothing to answer."),
            period=_moment(ctx))
        return Reply(f"The invitation of {person.display_name} to {p.ref} {p.name} is withdrawn; they are told.")
    await policy.may_remove(ctx, p, member, person)
    await ctx.store.remove(member)
    await ctx.log("partnership.member_removed", p.ref, before={"person_id": person.id, "side": member.side},
                  workspace_id=p.workspace_id)
    if person.id == ctx.caller.id:
        manager = next((m for m in await ctx.store.members(p.id)
                        if m.side == member.side and m.role == "manager"), None)
        if manager is not None:
            await ctx.notify(await ctx.store.get_person(manager.person_id), "partnership.member_left", p.ref,
                             Reply(f"{person.display_name} left side {member.side.upper()} of {p.ref} {p.name}."),
                             period=_moment(ctx))
        return Reply(f"You left {p.ref} {p.name}.")
    await ctx.notify(person, "partnership.member_removed", p.ref, Reply(
        f"{ctx.caller.display_name} took you off side {member.side.upper()} of {p.ref} {p.name}."),
        period=_moment(ctx))
    return Reply(f"{person.display_name} is off {p.ref} {p.name}; they are told.")


async def _goal(ctx: Context, p: Partnership, text: str) -> Reply:
    await policy.require_manager(ctx, p, "change its goals")
    if m := re.fullmatch(r"remove(?:\s+(\S+))?", text, re.IGNORECASE):
        return await _goal_remove(ctx, p, m.group(1) or "")
    if not text:
        raise UserError(f"Say the goal: `partnership {p.ref} goal 3 joint wins this quarter`.")
    await ctx.store.add(PartnershipGoal(partnership_id=p.id, text=text, created_by_id=ctx.caller.id,
                                        created_at=ctx.now))
    await ctx.log("partnership.goal_added", p.ref, after={"goal": text}, workspace_id=p.workspace_id)
    count = len(await ctx.store.goals(p.id))
    again = await charter.changed(ctx, p, f"goal {count}: {text}")  # the goals are part of the charter
    return Reply(f"Goal {count} of {p.ref} {p.name}: {text}. It is listed in every peer-sync digest. {again}")


async def _goal_remove(ctx: Context, p: Partnership, which: str) -> Reply:
    goals = await ctx.store.goals(p.id)
    if not (which.isascii() and which.isdigit()) or not 1 <= int(which) <= len(goals):
        listed = f"1 to {len(goals)}" if goals else "none yet"
        raise UserError(f"'{which}' is not a goal number of {p.ref} ({listed}); see them with "
                        f"`partnership {p.ref}`.")
    goal = goals[int(which) - 1]
    await ctx.store.remove(goal)
    await ctx.log("partnership.goal_removed", p.ref, before={"goal": goal.text}, workspace_id=p.workspace_id)
    again = await charter.changed(ctx, p, f"goal {which} removed: {goal.text}")
    return Reply(f"Goal {which} of {p.ref} {p.name} removed: {goal.text}. {again}")


async def _channel(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await policy.require_member(ctx, p)
    if not ctx.channel:
        raise UserError(f"Run `partnership {p.ref} channel` in the channel to bind, not in a direct chat.")
    channel = await _bind_channel(ctx, p)
    await ctx.log("partnership.channel_bound", p.ref, after={"channel": channel, "platform": ctx.platform},
                  workspace_id=p.workspace_id)
    return Reply(f"This channel is now bound to {p.ref} {p.name}: its peer-sync digests are posted here.")


async def _charter(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await policy.require_member(ctx, p)
    return await charter.show(ctx, p)


async def _rule(ctx: Context, p: Partnership, text: str) -> Reply:
    await policy.require_manager(ctx, p, "change its code of conduct")
    return await charter.add_rule(ctx, p, text)


async def _agree(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await policy.require_manager(ctx, p, "agree to its charter")
    policy.require_accepted(p, "agree to its charter")
    return await charter.agree(ctx, p)


async def _show(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await policy.require_member(ctx, p)
    members, invites = await ctx.store.members(p.id), await ctx.store.invites(p.id)
    people = await ctx.store.people({m.person_id for m in members} | {i.person_id for i in invites})
    facts = [Fact("Status", status)] if (status := await status_line(ctx.store, p)) else []
    for side in ("a", "b"):
        names = [f"{people[m.person_id].display_name}{' (manager)' if m.role == 'manager' else ''}"
                 for m in members if m.side == side]
        names += [f"{people[i.person_id].display_name} (invited{', manager' if i.role == 'manager' else ''})"
                  for i in invites if i.side == side]
        facts.append(Fact(f"Side {side.upper()}", ", ".join(names) or "nobody yet"))
    goals = [g.text for g in await ctx.store.goals(p.id)]
    facts.append(Fact("Goals", "; ".join(goals) or "none yet"))
    facts.append(Fact("Bound channels", str(len(await ctx.store.channels(p.id)))))
    return Reply.of_cards(Card(title=f"{p.ref} {p.name}", facts=tuple(facts)))


VERBS = [
    Verb("partnership", (
        "partnership new <name> with @manager",
        "partnership P-n accept|decline",
        "partnership P-n add @rep",
        "partnership P-n remove @rep",
        "partnership P-n goal <text>",
        "partnership P-n goal remove <n>",
        "partnership P-n channel",
        "partnership P-n charter",
        "partnership P-n rule <text>",
        "partnership P-n agree",
    ), "two sides that sell together: managers, reps, mutual goals, bound channels, their charter", (
        "partnership new Acme Alliance with @dana",
        "partnership P-1 accept",
        "partnership P-1 add @maria",
        "partnership P-1 remove @maria",
        "partnership P-1 goal 3 joint wins in EMEA this quarter",
        "partnership P-1 goal remove 2",
        "partnership P-1 channel",
        "partnership P-1 charter",
        "partnership P-1 rule Answer each other's requests within one working day",
        "partnership P-1 agree",
    ), partnership),
]
