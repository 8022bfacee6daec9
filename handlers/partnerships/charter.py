"""A partnership's charter: its mutual goals, a code of conduct and how problems are resolved,
agreed in writing by both managers. Every change of it (a rule, a goal) raises its version,
and an agreement counts only for the version agreed to, so both agree again."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.model import Button, Card, Reply
from handlers.partnerships.service import DEFAULT_RULES, charter_rules, not_agreed, status_line
from storage.models import CharterAgreement, CharterRule, Partnership

RESOLUTION = ("Problems go on the weekly peer sync (\"Problems to resolve together\"). What the two managers "
              "cannot settle there within two syncs goes to their own managers, together, never around "
              "the partner.")


def agree_button(p: Partnership) -> Button:
    return Button("Agree", f"partnership {p.ref} agree", "primary")


async def changed(ctx: Context, p: Partnership, what: str) -> str:
    """The charter changed: a new version that both managers agree to again. The other
    manager is told; returns what to tell the caller."""
    p.charter_version += 1
    await ctx.log("partnership.charter_changed", p.ref, after={"version": p.charter_version, "change": what},
                  workspace_id=p.workspace_id)
    for m in await ctx.store.members(p.id):
        if m.role == "manager" and m.person_id != ctx.caller.id:
            peer = await ctx.store.get_person(m.person_id)
            await ctx.notify(peer, "charter.changed", p.ref, period=str(p.charter_version), reply=Reply(
                f"{ctx.caller.display_name} changed the charter of {p.ref} {p.name}: {what}. "
                f"Read it with `partnership {p.ref} charter` and agree again with `partnership {p.ref} agree`.",
                cards=(Card(title=f"The charter of {p.ref} changed", text=what,
                            buttons=(Button("Read the charter", f"partnership {p.ref} charter"), agree_button(p))),),
            ))
    return f"The charter changed, so both managers agree again: `partnership {p.ref} agree`."


async def show(ctx: Context, p: Partnership) -> Reply:
    goals = [g.text for g in await ctx.store.goals(p.id)]
    code = await charter_rules(ctx.store, p)
    agreements = {a.person_id: a for a in await ctx.store.charter_agreements(p.id)
                  if a.version == p.charter_version}
    managers = [m.person_id for m in await ctx.store.members(p.id) if m.role == "manager"]
    people = await ctx.store.people(set(managers))
    status = [f"{people[pid].display_name} agreed {format_instant(agreements[pid].agreed_at, ctx.tz)}"
              if pid in agreements else f"{people[pid].display_name} not agreed yet" for pid in managers]
    goal_text = "\n".join(f"{i}. {g}" for i, g in enumerate(goals, 1)) or \
        f"None yet: `partnership {p.ref} goal <text>`."
    if pending := await status_line(ctx.store, p):
        status.append(f"{p.ref} is {pending}: nobody can agree to it yet.")
    buttons = (agree_button(p),) if ctx.caller.id in managers and ctx.caller.id not in agreements and \
        not pending else ()
    return Reply.of_cards(
        Card(title=f"Charter of {p.ref} {p.name} (version {p.charter_version})", text=f"Mutual goals:\n{goal_text}"),
        Card(title="Code of conduct", text="\n".join(f"{i}. {r}" for i, r in enumerate(code, 1))),
        Card(title="How problems are resolved", text=RESOLUTION),
        Card(title="Agreement", text="\n".join(status), buttons=buttons),
        sections=True,
    )


async def add_rule(ctx: Context, p: Partnership, text: str) -> Reply:
    if not text:
        raise UserError(f"Say the rule: `partnership {p.ref} rule Answer each other within a working day`.")
    if not await ctx.store.charter_rules(p.id):  # the defaults become written rules to add to
        ctx.store.stage(*(CharterRule(partnership_id=p.id, text=default, created_at=ctx.now)
                          for default in DEFAULT_RULES))
    await ctx.store.add(CharterRule(partnership_id=p.id, text=text, created_by_id=ctx.caller.id, created_at=ctx.now))
    count = len(await ctx.store.charter_rules(p.id))
    again = await changed(ctx, p, f"rule {count}: {text}")
    return Reply(f"Rule {count} of the {p.ref} code of conduct: {text}. {again}")


async def agree(ctx: Context, p: Partnership) -> Reply:
    found = await ctx.store.get(CharterAgreement, (p.id, ctx.caller.id))
    if found and found.version == p.charter_version:
        raise UserError(f"You agreed to this charter of {p.ref} {format_instant(found.agreed_at, ctx.tz)} already.")
    if found:
        found.version, found.agreed_at = p.charter_version, ctx.now
        await ctx.store.flush()
    else:
        await ctx.store.add(CharterAgreement(partnership_id=p.id, person_id=ctx.caller.id,
                                             version=p.charter_version, agreed_at=ctx.now))
    await ctx.log("partnership.charter_agreed", p.ref, after={"version": p.charter_version},
                  workspace_id=p.workspace_id)
    waiting = await not_agreed(ctx.store, p)
    tail = (f" Waiting for {', '.join(w.display_name for w in waiting)} to agree." if waiting
            else " Both managers have agreed: the charter stands.")
    waiting_ids = {w.id for w in waiting}
    for m in await ctx.store.members(p.id):
        if m.role == "manager" and m.person_id != ctx.caller.id:  # the peer manager hears of it
            peer, agreed = await ctx.store.get_person(m.person_id), f"{ctx.caller.display_name} agreed to the charter"
            told = Reply(f"{agreed} of {p.ref} {p.name} (version {p.charter_version}). Both managers have agreed: "
                         f"the charter stands.")
            if m.person_id in waiting_ids:
                told = Reply(
                    f"{agreed} of {p.ref} {p.name} (version {p.charter_version}). Read it with "
                    f"`partnership {p.ref} charter` and agree with `partnership {p.ref} agree`.",
                    cards=(Card(title=f"{agreed} of {p.ref}", buttons=(
                        Button("Read the charter", f"partnership {p.ref} charter"), agree_button(p))),))
            await ctx.notify(peer, "charter.agreed", p.ref, period=f"{p.charter_version}-{ctx.caller.id}", reply=told)
    return Reply(f"You agreed to the charter of {p.ref} {p.name} (version {p.charter_version}).{tail}",
                 replace_source=ctx.command.from_button)
