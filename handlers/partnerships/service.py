"""Partnerships (P-n): what other capabilities ask of them."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from storage.models import Partnership, PartnershipMember, Person
from storage.queries.reports import PartnershipScope
from storage.store import Store


def fold_name(name: str) -> str:
    """A partnership's name as compared: 'ACME  alliance' is 'acme alliance'."""
    return " ".join(name.lower().split())


async def find_partnership(ctx: Context, token: str) -> Partnership:
    """P-n as the caller means it (see Store.partnership_for); refused when there is none."""
    p = await ctx.store.partnership_for(ctx.workspace.id, ctx.ref_number(token, "P", "partnership"), ctx.caller.id)
    if p is None:
        raise UserError(f"There is no partnership {token.upper()} here.")
    return p


async def status_line(store: Store, p: Partnership) -> str:
    """What a partnership that is not running says wherever it is shown; "" when it runs."""
    if p.status == "declined":
        return "declined by the peer manager: it does not run"
    if p.status != "pending":
        return ""
    waiting = [i for i in await store.invites(p.id) if i.role == "manager"]
    who = (await store.get_person(waiting[0].person_id)).display_name if waiting else "the peer manager"
    return f"pending: waiting for {who} to accept (no peer syncs or pulses before)"


def between_sides(p: Partnership, members: list[PartnershipMember]) -> PartnershipScope:
    """The partnership's collaboration as report and list query it: what goes on between its sides."""
    return PartnershipScope(p.id, *(tuple(m.person_id for m in members if m.side == s) for s in ("a", "b")))


async def not_agreed(store: Store, p: Partnership) -> list[Person]:
    """Managers who have not agreed to the charter as it is now."""
    agreed = {a.person_id for a in await store.charter_agreements(p.id) if a.version == p.charter_version}
    managers = [m.person_id for m in await store.members(p.id) if m.role == "manager"]
    people = await store.people(set(managers))
    return [people[pid] for pid in managers if pid not in agreed]


# the charter's code of conduct until the managers write their own
DEFAULT_RULES = (
    "Treat your partner the way you want to be treated.",
    "Be honest, and steer clear of anything that could even look dishonest.",
    "Respect the other side's culture and policies.",
    "Think and act as a member of the alliance, not only of your own side.",
    "When in doubt, don't.",
)


async def charter_rules(store: Store, p: Partnership) -> list[str]:
    """The code of conduct: the default five until the managers write their own."""
    written = await store.charter_rules(p.id)
    return [r.text for r in written] if written else list(DEFAULT_RULES)
