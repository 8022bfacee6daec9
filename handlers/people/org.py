"""The organisation chart in bulk: an admin's CSV of manager links (`partnerbot org import`),
and the links in force (`partnerbot org export`). An optional fifth column gives the rep's email,
which maps them to their CRM user where Slack or Teams did not say it; a row may give only that.

A file is applied whole or not at all: every unknown person, every rep given two managers and
every cycle is reported, and nothing changes until there is none.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from handlers.kernel.errors import UserError
from handlers.people.service import Acting, chain_above, set_manager
from storage.models import Person

HEADER = ("platform", "workspace", "user_id", "manager_user_id", "email")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Link:
    line: int
    platform: str
    workspace: str
    user: str
    manager: str  # a user id in the same workspace, or "platform:workspace:user id"; "": none given
    email: str = ""  # the rep's; "": none given

    def manager_identity(self) -> tuple[str, str, str]:
        parts = self.manager.split(":", 2)
        return (parts[0], parts[1], parts[2]) if len(parts) == 3 else (self.platform, self.workspace, self.manager)


def read_links(text: str) -> list[Link]:
    """The rows of an org CSV (a header row is optional; blank and `#` lines are skipped)."""
    links, problems = [], []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == HEADER[0]:
            continue
        if len(cells) not in (4, 5) or not all(cells[:3]) or not any(cells[3:]):
            problems.append(f"line {number}: expected 4 or 5 columns ({', '.join(HEADER)}), a manager or an "
                            f"email or both, got {row!r}")
            continue
        if len(cells) == 5 and cells[4] and not _EMAIL.fullmatch(cells[4]):
            problems.append(f"line {number}: {cells[4]!r} is not an email address")
            continue
        links.append(Link(number, *cells))
    if problems:
        raise UserError("\n".join(problems))
    return links


async def import_links(ctx: Acting, links: list[Link], *, by: str) -> tuple[list[str], list[str]]:
    """Apply the links and emails; the manager links and the emails that changed, one line each.
    Refuses the whole file (UserError listing every problem) when a person is unknown, a rep is
    given two managers, or it makes a cycle."""
    problems: list[str] = []
    pairs: list[tuple[Link, Person, Person]] = []
    for link in links:
        rep = await ctx.store.person_at(link.platform, link.workspace, link.user)
        manager = await ctx.store.person_at(*link.manager_identity()) if link.manager else None
        named = [(f"{link.platform}:{link.workspace}:{link.user}", rep)]
        if link.manager:
            named.append((":".join(link.manager_identity()), manager))
        for who, found in named:
            if found is None:
                problems.append(f"line {link.line}: nobody known as {who} (they must have used Partnerbot once)")
        if rep is not None and manager is not None:
            pairs.append((link, rep, manager))
    chosen: dict[int, tuple[Link, Person]] = {}
    for link, rep, manager in pairs:
        if rep.id in chosen and chosen[rep.id][1].id != manager.id:
            problems.append(f"line {link.line}: {rep.display_name} already has a manager on line "
                            f"{chosen[rep.id][0].line}")
        chosen[rep.id] = (link, manager)
    problems += await _cycles(ctx, {rep_id: manager.id for rep_id, (_, manager) in chosen.items()})
    if problems:
        raise UserError("Nothing was changed:\n" + "\n".join(problems))
    emails = await _emails(ctx, [link for link in links if link.email])
    changed = []
    for link, rep, manager in pairs:
        if rep.manager_id == manager.id:
            continue
        previous = await set_manager(ctx, rep, manager, why=f"set by {by}", checked=True)
        was = f" (was {previous.display_name})" if previous else ""
        changed.append(f"line {link.line}: {rep.display_name} → {manager.display_name}{was}")
    return changed, emails


async def _emails(ctx: Acting, links: list[Link]) -> list[str]:
    changed = []
    for link in links:
        identity = await ctx.store.identity_at(link.platform, link.workspace, link.user)
        if identity is not None and identity.email != link.email:
            identity.email = link.email
            changed.append(f"line {link.line}: {link.user}'s email is {link.email}")
    return changed


async def _cycles(ctx: Acting, new: dict[int, int]) -> list[str]:
    """Cycles in the chart as it would be: the links in force, with the file's replacing theirs."""
    found = []
    for start in new:
        chain = await chain_above(ctx.store, start, new)
        if chain and chain[-1] == start:
            ring = [start, *chain[:-1]]
            first = ring.index(min(ring))  # each cycle once, whichever member it was found from
            ring = ring[first:] + ring[:first]
            people = await ctx.store.people(set(ring))
            found.append("cycle: " + " → ".join(people[i].display_name for i in [*ring, ring[0]]))
    return sorted(set(found))


async def export_links(ctx: Acting) -> str:
    """The links in force as an org CSV (what `import_links` reads back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for platform, workspace, user, m_platform, m_workspace, m_user, email in await ctx.store.manager_links():
        same = (m_platform, m_workspace) == (platform, workspace)
        writer.writerow((platform, workspace, user, m_user if same else f"{m_platform}:{m_workspace}:{m_user}",
                         email or ""))
    return out.getvalue()
