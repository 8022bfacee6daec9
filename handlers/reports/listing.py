"""list: open commitments, handoffs, leads and asks, soonest due first: one's own, a
person's, the overdue, an account's or a partnership's."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.text import ask_line, commitment_line, handoff_line, lead_line
from handlers.kernel.grammar import parse_ref, take_mention
from handlers.handoffs.verbs import OPEN_STAGES
from handlers.kernel.model import Reply
from handlers.partnerships.verbs import between_sides, find_partnership
from handlers.kernel.registry import Verb

LIMIT = 30  # more than this is not a list anyone reads in a chat


async def list_items(ctx: Context, args: str) -> Reply:
    scope = args.strip()
    word = scope.split(" ", 1)[0].lower()
    store, ws = ctx.store, ctx.workspace.id
    person = ctx.caller  # whose asks: by them or of them
    if word in ("", "mine"):
        # a person's own items come from every platform they linked (workspace None)
        title = "Your open items"
        commitments = await store.open_commitments(None, owner_id=person.id, limit=LIMIT)
        handoffs = await store.open_handoffs(None, stages=OPEN_STAGES, person_id=person.id, limit=LIMIT)
        leads = await store.open_leads(None, owner_id=person.id, limit=LIMIT)
        asks = await store.open_asks(None, person_id=person.id, limit=LIMIT)
    elif word == "overdue":
        title = "Overdue commitments"
        commitments = await store.open_commitments(ws, due_before=ctx.now, limit=LIMIT)
        handoffs, leads, asks = [], [], []
    elif word == "account":
        account = scope[len("account"):].strip()
        if not account:
            raise UserError("Name the account: `list account Acme Corp`.")
        title = f"Open items for {account}"
        handoffs = await store.open_handoffs(ws, stages=OPEN_STAGES, account=account, limit=LIMIT)
        commitments = await store.open_commitments(
            ws, account=account, handoff_ids=[h.id for h in handoffs], limit=LIMIT)
        leads = await store.open_leads(ws, account=account, limit=LIMIT)
        asks = []
    elif take_mention(scope):
        user_id, name, _ = take_mention(scope)
        person = await ctx.mentioned_person(user_id, name)
        title = f"Open items of {person.display_name}"
        commitments = await store.open_commitments(None, owner_id=person.id, limit=LIMIT)
        handoffs = await store.open_handoffs(None, stages=OPEN_STAGES, person_id=person.id, limit=LIMIT)
        leads = await store.open_leads(None, owner_id=person.id, limit=LIMIT)
        asks = await store.open_asks(None, person_id=person.id, limit=LIMIT)
    elif parse_ref(word, "P") is not None:
        if rest := scope.partition(" ")[2].strip():
            raise UserError(f"I don't understand '{rest}' after {word.upper()}; say `list P-1`.")
        p = await find_partnership(ctx, word)
        members = await store.members(p.id)
        if person.id not in {m.person_id for m in members}:
            raise UserError(f"Only the members of P-{p.number} can list its open items; ask one of its managers "
                            f"to add you.")
        # its collaboration on every platform it is bound to, as `report P-n` counts it
        title = f"Open items of P-{p.number} {p.name}"
        between = between_sides(p, members)
        commitments = await store.open_commitments_of(between, LIMIT)
        handoffs = await store.open_handoffs_between(between, OPEN_STAGES, LIMIT)
        leads = await store.open_leads_of(between, LIMIT)
        asks = await store.open_asks_of(between, LIMIT)
    else:
        raise UserError(f"I can't list '{scope}'.")

    people = await store.people({c.owner_id for c in commitments} | {lead.owner_id for lead in leads}
                                | {h.from_id for h in handoffs} | {h.to_id for h in handoffs}
                                | {a.asker_id for a in asks} | {a.person_id for a in asks})
    # a reference from another platform's workspace says where it lives: C-3 there is not C-3 here
    elsewhere = await store.workspace_platforms(
        {r.workspace_id for r in (*commitments, *handoffs, *leads, *asks)} - {ws})
    lines = [_where(commitment_line(c, people.get(c.owner_id), ctx.timezone_of(people[c.owner_id])), c, elsewhere)
             for c in commitments]
    lines += [_where(handoff_line(h, people), h, elsewhere) for h in handoffs]
    next_activities = await store.next_activities([lead.id for lead in leads])
    lines += [_where(lead_line(lead, people, next_activities.get(lead.id), ctx.tz), lead, elsewhere) for lead in leads]
    lines += [_where(ask_line(a, people, person.id), a, elsewhere) for a in asks]
    if not lines:
        return Reply(f"{title}: nothing open.")
    more = "\n(only the first few are shown)" if LIMIT in (len(commitments), len(handoffs), len(leads), len(asks)) \
        else ""
    return Reply(f"{title}:\n" + "\n".join(lines) + more)


def _where(line: str, record, elsewhere: dict[int, str]) -> str:
    if record.workspace_id not in elsewhere:
        return line
    ref, rest = line.split(" · ", 1)
    return f"{ref} (on {elsewhere[record.workspace_id].capitalize()}) · {rest}"


VERBS = [
    Verb("list", ("list [mine | @person | overdue | account <name> | P-n]",),
         "open commitments, handoffs, leads and asks (both ways), soonest due first",
         ("list", "list overdue", "list @maria", "list account Acme Corp", "list P-1"), list_items),
]
