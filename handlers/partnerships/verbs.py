"""partnership: two sides that sell together, their managers, reps, goals and channels."""
from __future__ import annotations

import re

from handlers.partnerships import charter
from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import MENTION, parse_ref
from handlers.kernel.model import Card, Fact, Reply
from handlers.kernel.registry import Verb
from handlers.kernel.rules import fire_at_or_after
from storage.models import Partnership, PartnershipChannel, PartnershipGoal, PartnershipMember, SyncSeries
from storage.queries.reports import PartnershipScope

_NEW = re.compile(r"^new\s+(?P<name>.+?)\s+with\s+(?P<mention>" + MENTION.pattern + r")\s*$", re.IGNORECASE)
_SIDE = re.compile(r"\s+side\s+([ab])\s*$", re.IGNORECASE)


def fold_name(name: str) -> str:
    return " ".join(name.lower().split())


def between_sides(p: Partnership, members: list[PartnershipMember]) -> PartnershipScope:
    """The partnership's collaboration as report and list query it: what goes on between its sides."""
    return PartnershipScope(p.id, *(tuple(m.person_id for m in members if m.side == s) for s in ("a", "b")))


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


async def find_partnership(ctx: Context, token: str) -> Partnership:
    p = await ctx.store.partnership_for(ctx.workspace.id, ctx.ref_number(token, "P", "partnership"), ctx.caller.id)
    if p is None:
        raise UserError(f"There is no partnership {token.upper()} here.")
    return p


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
    p = Partnership(workspace_id=ctx.workspace.id, number=await ctx.store.next_number(ctx.workspace.id, "P"),
                    name=name, name_key=fold_name(name), created_by_id=ctx.caller.id, created_at=ctx.now)
    await ctx.store.add(p)
    for person, side in ((ctx.caller, "a"), (peer, "b")):
        ctx.store.session.add(PartnershipMember(partnership_id=p.id, person_id=person.id, side=side,
                                                role="manager", added_at=ctx.now))
        ctx.store.session.add(_new_series(ctx, p, person))
    bound = await _bind_channel(ctx, p)
    ref = f"P-{p.number}"
    await ctx.log("partnership.created", ref, after={"name": name, "manager_a": ctx.caller.id,
                                                     "manager_b": peer.id, "channel": bound})
    when = _sync_rule_text(ctx)
    peer_reachable = await ctx.notify(peer, "partnership.created", ref, Reply(
        f"{ctx.caller.display_name} started {ref} {name} with you: you manage side B, they manage side A. "
        f"Your weekly peer sync prompt comes {when}, your time.",
        cards=(Card(title=f"{ref} {name}", text="You are the manager of side B.",
                    facts=(Fact("Side A manager", ctx.caller.display_name), Fact("Peer sync", when))),),
    ))
    where = " This channel is bound: digests are posted here." if bound else \
        f" Run `partnership {ref} channel` in a channel to post digests there."
    waiting = "" if peer_reachable else \
        f" {peer.display_name} has not talked to Partnerbot yet: they get their messages once they do."
    return Reply(f"{ref} {name} created: you manage side A, {peer.display_name} side B. "
                 f"Peer sync {when}, each manager's own time.{where}{waiting}")


def _new_series(ctx: Context, p: Partnership, person) -> SyncSeries:
    weekday, time = ctx.settings.get("cadence.peer_sync.weekday"), ctx.settings.get("cadence.peer_sync.time")
    tz = ctx.timezone_of(person)
    return SyncSeries(partnership_id=p.id, person_id=person.id, weekday=weekday, time=time, timezone=tz,
                      next_run_at=fire_at_or_after(weekday, time, tz, ctx.now))


def _sync_rule_text(ctx: Context) -> str:
    return f"every {ctx.settings.get('cadence.peer_sync.weekday')} at {ctx.settings.get('cadence.peer_sync.time')}"


async def _bind_channel(ctx: Context, p: Partnership) -> str | None:
    """Bind the channel the command was typed in; None in a direct chat."""
    channel = ctx.command.channel
    if not channel or ctx.command.is_direct:
        return None
    for bound in await ctx.store.channels(p.id):
        if bound.workspace_id == ctx.workspace.id and bound.channel == channel:
            raise UserError(f"This channel is already bound to P-{p.number}.")
    ctx.store.session.add(PartnershipChannel(partnership_id=p.id, workspace_id=ctx.workspace.id, channel=channel,
                                             platform=ctx.platform, bound_at=ctx.now))
    return channel


async def _require_manager(ctx: Context, p: Partnership, doing: str) -> PartnershipMember:
    me = await ctx.store.member(p.id, ctx.caller.id)
    if me is None or me.role != "manager":
        raise UserError(f"Only the two managers of P-{p.number} can {doing}.")
    return me


async def _require_member(ctx: Context, p: Partnership) -> PartnershipMember:
    me = await ctx.store.member(p.id, ctx.caller.id)
    if me is None:
        raise UserError(f"You are not a member of P-{p.number}; ask one of its managers to add you.")
    return me


async def _add(ctx: Context, p: Partnership, rest: str) -> Reply:
    me = await _require_manager(ctx, p, "add people to it")
    side = me.side
    if m := _SIDE.search(rest):
        side, rest = m.group(1).lower(), rest[: m.start()]
    rep, extra = await ctx.take_person(rest, "the rep to add")
    if extra:
        raise UserError(f"I don't understand '{extra}'; say `side a` or `side b` after the mention.")
    if existing := await ctx.store.member(p.id, rep.id):
        raise UserError(f"{rep.display_name} is already on side {existing.side.upper()} of P-{p.number}.")
    manager = next(m for m in await ctx.store.members(p.id) if m.side == side and m.role == "manager")
    ctx.store.session.add(PartnershipMember(partnership_id=p.id, person_id=rep.id, side=side, role="rep",
                                            added_at=ctx.now))
    before = {"manager_id": rep.manager_id}
    rep.manager_id = manager.person_id
    ref = f"P-{p.number}"
    await ctx.log("partnership.member_added", ref, before=before,
                  after={"person_id": rep.id, "side": side, "manager_id": manager.person_id},
                  workspace_id=p.workspace_id)
    manager_name = (await ctx.store.get_person(manager.person_id)).display_name
    return Reply(f"{rep.display_name} added to {ref} {p.name}, side {side.upper()} (manager {manager_name}).")


async def _goal(ctx: Context, p: Partnership, text: str) -> Reply:
    await _require_member(ctx, p)
    if not text:
        raise UserError(f"Say the goal: `partnership P-{p.number} goal 3 joint wins this quarter`.")
    await ctx.store.add(PartnershipGoal(partnership_id=p.id, text=text, created_by_id=ctx.caller.id,
                                        created_at=ctx.now))
    ref = f"P-{p.number}"
    await ctx.log("partnership.goal_added", ref, after={"goal": text}, workspace_id=p.workspace_id)
    count = len(await ctx.store.goals(p.id))
    again = await charter.changed(ctx, p, f"goal {count}: {text}")  # the goals are part of the charter
    return Reply(f"Goal {count} of {ref} {p.name}: {text}. It is listed in every peer-sync digest. {again}")


async def _channel(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await _require_member(ctx, p)
    if not ctx.command.channel or ctx.command.is_direct:
        raise UserError(f"Run `partnership P-{p.number} channel` in the channel to bind, not in a direct chat.")
    channel = await _bind_channel(ctx, p)
    await ctx.log("partnership.channel_bound", f"P-{p.number}", after={"channel": channel, "platform": ctx.platform},
                  workspace_id=p.workspace_id)
    return Reply(f"This channel is now bound to P-{p.number} {p.name}: its peer-sync digests are posted here.")


async def _charter(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await _require_member(ctx, p)
    return await charter.show(ctx, p)


async def _rule(ctx: Context, p: Partnership, text: str) -> Reply:
    await _require_manager(ctx, p, "change its code of conduct")
    return await charter.add_rule(ctx, p, text)


async def _agree(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await _require_manager(ctx, p, "agree to its charter")
    return await charter.agree(ctx, p)


async def _show(ctx: Context, p: Partnership, _rest: str) -> Reply:
    await _require_member(ctx, p)
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
    ref = f"P-{p.number}"
    return Reply(f"{ref} {p.name}: " + "; ".join(f"{f.label}: {f.value}" for f in facts),
                 cards=(Card(title=f"{ref} {p.name}", facts=tuple(facts)),))


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
