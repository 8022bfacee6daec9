"""partnership: two sides that sell together, their managers, reps, goals and channels."""
from __future__ import annotations

import re

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import MENTION, parse_ref
from handlers.kernel.model import Card, Fact, Reply
from handlers.kernel.registry import Verb
from handlers.kernel.rules import fire_at_or_after
from handlers.partnerships import charter, policy
from handlers.partnerships.service import find_partnership, fold_name
from storage.models import Partnership, PartnershipChannel, PartnershipGoal, PartnershipMember, Person, SyncSeries

_NEW = re.compile(r"^new\s+(?P<name>.+?)\s+with\s+(?P<mention>" + MENTION.pattern + r")\s*$", re.IGNORECASE)
_SIDE = re.compile(r"\s+side\s+([ab])\s*$", re.IGNORECASE)


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
    actions = {"add": _add, "goal": _goal, "channel": _channel, "show": _show, "charter": _charter,
               "rule": _rule, "agree": _agree}
    if action not in actions:
        raise UserError(f"'{action}' is not something a partnership does: add, goal, channel, charter, rule "
                        f"or agree.")
    return await actions[action](ctx, p, rest.strip())


async def _create(ctx: Context, args: str) -> Reply:
    m = _NEW.match(args)
    if not m:
        if MENTION.search(args) is None:
            raise UserError("Mention the peer manager with @: `partnership new Acme Alliance with @dana`.")
        raise UserError("Name the partnership, then `with @manager`.")
    name = " ".join(m.group("name").split())
    peer = await ctx.mentioned_person(m.group(3), m.group(4))
    if peer.id == ctx.caller.id:
        raise UserError("A partnership needs a peer manager other than you; mention them.")
    if await ctx.store.partnership_named(ctx.workspace.id, fold_name(name)):
        raise UserError(f"There is already a partnership called '{name}' here.")
    number = await ctx.store.next_number(ctx.workspace.id, Partnership.KIND)
    p = Partnership(workspace_id=ctx.workspace.id, number=number, name=name, name_key=fold_name(name),
                    created_by_id=ctx.caller.id, created_at=ctx.now)
    await ctx.store.add(p)
    for person, side in ((ctx.caller, "a"), (peer, "b")):
        ctx.store.stage(PartnershipMember(partnership_id=p.id, person_id=person.id, side=side, role="manager",
                                          added_at=ctx.now),
                        _new_series(ctx, p, person))
    bound = await _bind_channel(ctx, p)
    await ctx.log("partnership.created", p.ref, after={"name": name, "manager_a": ctx.caller.id,
                                                       "manager_b": peer.id, "channel": bound})
    when = _sync_rule_text(ctx)
    peer_reachable = await ctx.notify(peer, "partnership.created", p.ref, Reply(
        f"{ctx.caller.display_name} started {p.ref} {name} with you: you manage side B, they manage side A. "
        f"Your weekly peer sync prompt comes {when}, your time.",
        cards=(Card(title=f"{p.ref} {name}", text="You are the manager of side B.",
                    facts=(Fact("Side A manager", ctx.caller.display_name), Fact("Peer sync", when))),),
    ))
    where = " This channel is bound: digests are posted here." if bound else \
        f" Run `partnership {p.ref} channel` in a channel to post digests there."
    waiting = "" if peer_reachable else \
        f" {peer.display_name} has not talked to Partnerbot yet: they get their messages once they do."
    return Reply(f"{p.ref} {name} created: you manage side A, {peer.display_name} side B. "
                 f"Peer sync {when}, each manager's own time.{where}{waiting}")


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
        if bound.workspace_id == ctx.workspace.id and bound.channel == channel:
            raise UserError(f"This channel is already bound to {p.ref}.")
    ctx.store.stage(PartnershipChannel(partnership_id=p.id, workspace_id=ctx.workspace.id, channel=channel,
                                       platform=ctx.platform, bound_at=ctx.now))
    return channel


async def _add(ctx: Context, p: Partnership, rest: str) -> Reply:
    me = await policy.require_manager(ctx, p, "add people to it")
    side = me.side
    if m := _SIDE.search(rest):
        side, rest = m.group(1).lower(), rest[: m.start()]
    rep, extra = await ctx.take_person(rest, "the rep to add")
    if extra:
        raise UserError(f"I don't understand '{extra}'; say `side a` or `side b` after the mention.")
    if existing := await ctx.store.member(p.id, rep.id):
        raise UserError(f"{rep.display_name} is already on side {existing.side.upper()} of {p.ref}.")
    manager = next(m for m in await ctx.store.members(p.id) if m.side == side and m.role == "manager")
    ctx.store.stage(PartnershipMember(partnership_id=p.id, person_id=rep.id, side=side, role="rep",
                                      added_at=ctx.now))
    before = {"manager_id": rep.manager_id}
    rep.manager_id = manager.person_id
    await ctx.log("partnership.member_added", p.ref, before=before,
                  after={"person_id": rep.id, "side": side, "manager_id": manager.person_id},
                  workspace_id=p.workspace_id)
    manager_name = (await ctx.store.get_person(manager.person_id)).display_name
    return Reply(f"{rep.display_name} added to {p.ref} {p.name}, side {side.upper()} (manager {manager_name}).")


async def _goal(ctx: Context, p: Partnership, text: str) -> Reply:
    await policy.require_member(ctx, p)
    if not text:
        raise UserError(f"Say the goal: `partnership {p.ref} goal 3 joint wins this quarter`.")
    await ctx.store.add(PartnershipGoal(partnership_id=p.id, text=text, created_by_id=ctx.caller.id,
                                        created_at=ctx.now))
    await ctx.log("partnership.goal_added", p.ref, after={"goal": text}, workspace_id=p.workspace_id)
    count = len(await ctx.store.goals(p.id))
    again = await charter.changed(ctx, p, f"goal {count}: {text}")  # the goals are part of the charter
    return Reply(f"Goal {count} of {p.ref} {p.name}: {text}. It is listed in every peer-sync digest. {again}")


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
    return await charter.agree(ctx, p)


async def _show(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await policy.require_member(ctx, p)
    members = await ctx.store.members(p.id)
    people = await ctx.store.people({m.person_id for m in members})
    facts = []
    for side in ("a", "b"):
        names = [f"{people[m.person_id].display_name}{' (manager)' if m.role == 'manager' else ''}"
                 for m in members if m.side == side]
        facts.append(Fact(f"Side {side.upper()}", ", ".join(names)))
    goals = [g.text for g in await ctx.store.goals(p.id)]
    facts.append(Fact("Goals", "; ".join(goals) or "none yet"))
    facts.append(Fact("Bound channels", str(len(await ctx.store.channels(p.id)))))
    return Reply.of_cards(Card(title=f"{p.ref} {p.name}", facts=tuple(facts)))


VERBS = [
    Verb("partnership", (
        "partnership new <name> with @manager",
        "partnership P-n add @rep [side a|b]",
        "partnership P-n goal <text>",
        "partnership P-n channel",
        "partnership P-n charter",
        "partnership P-n rule <text>",
        "partnership P-n agree",
    ), "two sides that sell together: managers, reps, mutual goals, bound channels, their charter", (
        "partnership new Acme Alliance with @dana",
        "partnership P-1 add @maria side b",
        "partnership P-1 goal 3 joint wins in EMEA this quarter",
        "partnership P-1 channel",
        "partnership P-1 charter",
        "partnership P-1 rule Answer each other's requests within one working day",
        "partnership P-1 agree",
    ), partnership),
]
