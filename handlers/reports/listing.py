"""list: open commitments, handoffs, leads and asks, soonest due first: one's own, a
person's, the overdue, an account's or a partnership's."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from handlers.handoffs.service import OPEN_STAGES, WITHDRAWN
from handlers.kernel.context import Context
from handlers.kernel.dates import format_day, parse_past_date
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import parse_ref, take_mention
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.kernel.text import ask_line, commitment_line, handoff_line, lead_line
from handlers.partnerships import policy
from handlers.partnerships.service import between_sides, find_partnership, status_line
from storage.models import Person
from storage.queries.reports import People

LIMIT = 30  # more than this is not a list anyone reads in a chat


@dataclass
class Items:
    """What one `list` shows: open records of each kind, soonest due first, at most LIMIT each."""

    title: str
    viewer: Person  # whose asks: by them or of them
    commitments: list = field(default_factory=list)
    handoffs: list = field(default_factory=list)
    leads: list = field(default_factory=list)
    asks: list = field(default_factory=list)


async def list_items(ctx: Context, args: str) -> Reply:
    scope = args.strip()
    word = scope.split(" ", 1)[0].lower()
    if word in CLOSED:
        return await _closed(ctx, word, scope[len(word):].strip())
    if word in ("", "mine"):
        items = await _of_person(ctx, ctx.caller, "Your open items")
    elif word == "overdue":
        items = Items("Overdue commitments", ctx.caller,
                      await ctx.store.open_commitments(ctx.workspace.id, due_before=ctx.now, limit=LIMIT))
    elif word == "account":
        items = await _of_account(ctx, scope[len("account"):].strip())
    elif mention := take_mention(scope):
        person = await ctx.mentioned_person(mention[0], mention[1])
        await policy.may_see(ctx, person, "list")  # it spans every platform they linked
        items = await _of_person(ctx, person, f"Open items of {person.display_name}")
    elif parse_ref(word, "P") is not None:
        if rest := scope.partition(" ")[2].strip():
            raise UserError(f"I don't understand '{rest}' after {word.upper()}; say `list P-1`.")
        items = await _of_partnership(ctx, word)
    else:
        raise UserError(f"I can't list '{scope}'.")
    lines = await _lines(ctx, items)
    if not lines:
        return Reply(f"{items.title}: nothing open.")
    counts = (len(items.commitments), len(items.handoffs), len(items.leads), len(items.asks))
    more = "\n(only the first few are shown)" if LIMIT in counts else ""
    return Reply(f"{items.title}:\n" + "\n".join(lines) + more)


async def _of_person(ctx: Context, person: Person, title: str) -> Items:
    """A person's own items come from every platform they linked (workspace None)."""
    store = ctx.store
    return Items(title, person,
                 await store.open_commitments(None, owner_id=person.id, limit=LIMIT),
                 await store.open_handoffs(None, stages=OPEN_STAGES, person_id=person.id, limit=LIMIT),
                 await store.open_leads(None, owner_id=person.id, limit=LIMIT),
                 await store.open_asks(None, person_id=person.id, limit=LIMIT))


async def _of_account(ctx: Context, account: str) -> Items:
    if not account:
        raise UserError("Name the account: `list account Acme Corp`.")
    store, ws = ctx.store, ctx.workspace.id
    handoffs = await store.open_handoffs(ws, stages=OPEN_STAGES, account=account, limit=LIMIT)
    commitments = await store.open_commitments(ws, account=account, handoff_ids=[h.id for h in handoffs], limit=LIMIT)
    return Items(f"Open items for {account}", ctx.caller, commitments, handoffs,
                 await store.open_leads(ws, account=account, limit=LIMIT))


async def _of_partnership(ctx: Context, token: str) -> Items:
    """Its collaboration on every platform it is bound to, as `report P-n` counts it: members only."""
    store = ctx.store
    p = await find_partnership(ctx, token)
    members = await store.members(p.id)
    if await policy.membership(ctx, p) is None:
        raise UserError(f"Only the members of {p.ref} can list its open items; ask one of its managers "
                        f"to add you.")
    between = between_sides(p, members)
    status = await status_line(store, p)
    return Items(f"Open items of {p.ref} {p.name}" + (f" ({status})" if status else ""), ctx.caller,
                 await store.open_commitments_of(between, LIMIT),
                 await store.open_handoffs_between(between, OPEN_STAGES, LIMIT),
                 await store.open_leads_of(between, LIMIT),
                 await store.open_asks_of(between, LIMIT))


async def _lines(ctx: Context, items: Items) -> list[str]:
    store = ctx.store
    commitments, handoffs, leads, asks = items.commitments, items.handoffs, items.leads, items.asks
    people = await store.people({c.owner_id for c in commitments} | {lead.owner_id for lead in leads}
                                | {h.from_id for h in handoffs} | {h.to_id for h in handoffs}
                                | {a.asker_id for a in asks} | {a.person_id for a in asks})
    # a reference from another platform's workspace says where it lives: C-3 there is not C-3 here
    elsewhere = await store.workspace_platforms(
        {r.workspace_id for r in (*commitments, *handoffs, *leads, *asks)} - {ctx.workspace.id})
    lines = [_where(commitment_line(c, people.get(c.owner_id), ctx.timezone_of(people[c.owner_id])), c, elsewhere)
             for c in commitments]
    lines += [_where(handoff_line(h, people), h, elsewhere) for h in handoffs]
    next_activities = await store.next_activities([lead.id for lead in leads])
    lines += [_where(lead_line(lead, people, next_activities.get(lead.id), ctx.tz), lead, elsewhere) for lead in leads]
    lines += [_where(ask_line(a, people, items.viewer.id), a, elsewhere) for a in asks]
    return lines


# --- list done|won|lost|all: closed records, newest first --------------------------------------
# what each word lists: (commitment statuses, handoff stages, declined handoffs, lead statuses, ask statuses)
CLOSED = {
    "done": (("done", "dropped"), (), False, (), ("answered", "declined")),
    "won": ((), ("won",), False, ("won",), ()),
    "lost": ((), ("lost", WITHDRAWN), True, ("lost",), ()),
    "all": (("done", "dropped"), ("won", "lost", WITHDRAWN), True, ("won", "lost"), ("answered", "declined")),
}
_TITLES = {"done": "Done", "won": "Won", "lost": "Lost", "all": "Closed"}
async def _closed(ctx: Context, word: str, rest: str) -> Reply:
    """`list done|won|lost|all [mine | @person | P-n] [since <date>]`: the newest first."""
    lowered = rest.lower()
    if lowered == "since" or lowered.endswith(" since"):
        raise UserError(f"Say since when: `list {word} since 2026-11-01`.")
    if lowered.startswith("since "):
        target, since_text = "", rest[len("since "):]
    elif " since " in lowered:
        at = lowered.rindex(" since ")
        target, since_text = rest[:at].strip(), rest[at + len(" since "):]
    else:
        target, since_text = rest, ""
    since, since_label = None, ""
    if since_text:
        day = parse_past_date(since_text, ctx.today, after="`since`")
        since = datetime.combine(day, time.min, tzinfo=ZoneInfo(ctx.tz))
        since_label = f" since {format_day(day, ctx.tz)}"
    first = target.split(" ", 1)[0].lower()
    if first in ("", "mine"):
        if target.lower() not in ("", "mine"):
            raise UserError(f"I can't list {word} '{target}'.")
        scope, whose = People((ctx.caller.id,)), "yours"
    elif mention := take_mention(target):
        if mention[2].strip():
            raise UserError(f"I don't understand '{mention[2].strip()}' after the mention.")
        person = await ctx.mentioned_person(mention[0], mention[1])
        await policy.may_see(ctx, person, "list")
        scope, whose = People((person.id,)), f"of {person.display_name}"
    elif parse_ref(first, "P") is not None and first == target.lower():
        p = await find_partnership(ctx, first)
        if await policy.membership(ctx, p) is None:
            raise UserError(f"Only the members of {p.ref} can list its items; ask one of its managers to add you.")
        scope, whose = between_sides(p, await ctx.store.members(p.id)), f"of {p.ref} {p.name}"
    else:
        raise UserError(f"I can't list {word} '{target}'.")
    commitment_status, stages, declined, lead_status, ask_status = CLOSED[word]
    commitments, handoffs, leads, asks = await ctx.store.closed_items(
        scope, commitment_status=commitment_status, handoff_stages=stages, handoffs_declined=declined,
        lead_status=lead_status, ask_status=ask_status, since=since, limit=LIMIT)
    title = f"{_TITLES[word]} — {whose}{since_label}"
    people = await ctx.store.people({c.owner_id for c in commitments} | {lead.owner_id for lead in leads}
                                    | {h.from_id for h in handoffs} | {h.to_id for h in handoffs}
                                    | {a.asker_id for a in asks} | {a.person_id for a in asks})
    lines = [_closed_commitment(c, people[c.owner_id], ctx) for c in commitments]
    lines += [_closed_handoff(h, people, ctx) for h in handoffs]
    lines += [lead_line(lead, people, None, ctx.tz) for lead in leads]
    lines += [ask_line(a, people, ctx.caller.id) for a in asks]
    if not lines:
        return Reply(f"{title}: nothing.")
    more = "\n(only the newest are shown)" if LIMIT in (len(commitments), len(handoffs), len(leads), len(asks)) else ""
    return Reply(f"{title}:\n" + "\n".join(lines) + more)


def _day(at: datetime, tz: str) -> str:
    return format_day(at.astimezone(ZoneInfo(tz)).date(), tz)


def _closed_commitment(c, owner: Person, ctx: Context) -> str:
    outcome = "dropped" if c.status == "dropped" else "kept" if c.closed_at <= c.due_at else "kept late"
    note = f" ({c.close_note})" if c.close_note else ""
    return f"{c.ref} · {c.what} · {outcome} {_day(c.closed_at, ctx.tz)}{note} · {owner.display_name}"


def _closed_handoff(h, people: dict[int, Person], ctx: Context) -> str:
    outcome, at = ("declined", h.declined_at) if h.declined_at else (h.stage, h.stage_changed_at)
    return (f"{h.ref} · {h.account}: {h.need} · {outcome} {_day(at, ctx.tz)} · "
            f"{people[h.from_id].display_name} → {people[h.to_id].display_name}")


def _where(line: str, record, elsewhere: dict[int, str]) -> str:
    if record.workspace_id not in elsewhere:
        return line
    ref, rest = line.split(" · ", 1)
    return f"{ref} (on {elsewhere[record.workspace_id].capitalize()}) · {rest}"


VERBS = [
    Verb("list", ("list [mine | @person | overdue | account <name> | P-n]",
                  "list done|won|lost|all [mine | @person | P-n] [since <date>]"),
         "open commitments, handoffs, leads and asks (both ways), soonest due first; or closed ones, newest first",
         ("list", "list overdue", "list @maria", "list account Acme Corp", "list P-1", "list done since mon",
          "list won P-1 since 2026-10-01"), list_items),
]
