"""A partnership's charter: its mutual goals, a code of conduct and how problems are resolved,
agreed in writing by both managers. Every change of it (a rule, a goal) raises its version,
and an agreement counts only for the version agreed to, so both agree again."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.model import Button, Card, Fact, Reply
from storage.models import CharterAgreement, CharterRule, Partnership, Person
from storage.store import Store

DEFAULT_RULES = (
    "Treat your partner the way you want to be treated.",
    "Be honest, and steer clear of anything that could even look dishonest.",
    "Respect the other side's culture and policies.",
    "Think and act as a member of the alliance, not only of your own side.",
    "When in doubt, don't.",
)
RESOLUTION = ("Problems go on the weekly peer sync (\"Problems to resolve together\"). What the two managers "
              "cannot settle there within two syncs goes to their own managers, together, never around "
              "the partner.")


def pref(p: Partnership) -> str:
    return f"P-{p.number}"


async def rules(store: Store, p: Partnership) -> list[str]:
    """The code of conduct: the default five until the managers write their own."""
    written = await store.charter_rules(p.id)
    return [r.text for r in written] if written else list(DEFAULT_RULES)


async def not_agreed(store: Store, p: Partnership) -> list[Person]:
    """Managers who have not agreed to the charter as it is now."""
    agreed = {a.person_id for a in await store.charter_agreements(p.id) if a.version == p.charter_version}
    managers = [m.person_id for m in await store.members(p.id) if m.role == "manager"]
    people = await store.people(set(managers))
    return [people[pid] for pid in managers if pid not in agreed]


def agree_button(p: Partnership) -> Button:
    return Button("Agree", f"partnership {pref(p)} agree", "primary")


async def changed(ctx: Context, p: Partnership, what: str) -> str:
    """The charter changed: a new version that both managers agree to again. The other
    manager is told; returns what to tell the caller."""
    p.charter_version += 1
    await ctx.log("partnership.charter_changed", pref(p), after={"version": p.charter_version, "change": what},
                  workspace_id=p.workspace_id)
    for m in await ctx.store.members(p.id):
        if m.role == "manager" and m.person_id != ctx.caller.id:
            peer = await ctx.store.get_person(m.person_id)
            await ctx.notify(peer, "charter.changed", pref(p), period=str(p.charter_version), reply=Reply(
                f"{ctx.caller.display_name} changed the charter of {pref(p)} {p.name}: {what}. "
                f"Read it with `partnership {pref(p)} charter` and agree again with `partnership {pref(p)} agree`.",
                cards=(Card(title=f"The charter of {pref(p)} changed", text=what,
                            buttons=(Button("Read the charter", f"partnership {pref(p)} charter"), agree_button(p))),),
            ))
    return f"The charter changed, so both managers agree again: `partnership {pref(p)} agree`."


async def show(ctx: Context, p: Partnership) -> Reply:
    goals = [g.text for g in await ctx.store.goals(p.id)]
    code = await rules(ctx.store, p)
    agreements = {a.person_id: a for a in await ctx.store.charter_agreements(p.id)
                  if a.version == p.charter_version}
    managers = [m.person_id for m in await ctx.store.members(p.id) if m.role == "manager"]
    people = await ctx.store.people(set(managers))
    status = [Fact(people[pid].display_name,
                   f"agreed {format_instant(agreements[pid].agreed_at, ctx.tz)}" if pid in agreements else "not agreed yet")
              for pid in managers]
    goal_text = "\n".join(f"{i}. {g}" for i, g in enumerate(goals, 1)) or \
        f"None yet: `partnership {pref(p)} goal <text>`."
    rule_text = "\n".join(f"{i}. {r}" for i, r in enumerate(code, 1))
    title = f"Charter of {pref(p)} {p.name} (version {p.charter_version})"
    buttons = (agree_button(p),) if ctx.caller.id in managers and ctx.caller.id not in agreements else ()
    text = (f"{title}\nMutual goals:\n{goal_text}\nCode of conduct:\n{rule_text}\nHow problems are resolved:\n"
            f"{RESOLUTION}\nAgreement: " + "; ".join(f"{f.label} {f.value}" for f in status))
    return Reply(text, cards=(Card(title=title, text=f"Mutual goals:\n{goal_text}"),
                              Card(title="Code of conduct", text=rule_text),
                              Card(title="How problems are resolved", text=RESOLUTION),
                              Card(title="Agreement", facts=tuple(status), buttons=buttons)))


async def add_rule(ctx: Context, p: Partnership, text: str) -> Reply:
    if not text:
        raise UserError(f"Say the rule: `partnership {pref(p)} rule Answer each other within a working day`.")
    if not await ctx.store.charter_rules(p.id):  # the defaults become written rules to add to
        for default in DEFAULT_RULES:
            ctx.store.session.add(CharterRule(partnership_id=p.id, text=default, created_at=ctx.now))
    ctx.store.session.add(CharterRule(partnership_id=p.id, text=text, created_by_id=ctx.caller.id, created_at=ctx.now))
    await ctx.store.session.flush()
    count = len(await ctx.store.charter_rules(p.id))
    again = await changed(ctx, p, f"rule {count}: {text}")
    return Reply(f"Rule {count} of the {pref(p)} code of conduct: {text}. {again}")


async def agree(ctx: Context, p: Partnership) -> Reply:
    found = await ctx.store.session.get(CharterAgreement, (p.id, ctx.caller.id))
    if found and found.version == p.charter_version:
        raise UserError(f"You agreed to this charter of {pref(p)} {format_instant(found.agreed_at, ctx.tz)} already.")
    if found:
        found.version, found.agreed_at = p.charter_version, ctx.now
    else:
        ctx.store.session.add(CharterAgreement(partnership_id=p.id, person_id=ctx.caller.id,
                                               version=p.charter_version, agreed_at=ctx.now))
    await ctx.store.session.flush()
    await ctx.log("partnership.charter_agreed", pref(p), after={"version": p.charter_version},
                  workspace_id=p.workspace_id)
    waiting = await not_agreed(ctx.store, p)
    tail = (f" Waiting for {', '.join(w.display_name for w in waiting)} to agree." if waiting
            else " Both managers have agreed: the charter stands.")
    return Reply(f"You agreed to the charter of {pref(p)} {p.name} (version {p.charter_version}).{tail}",
                 replace_source=ctx.command.from_button)
