"""ask: a request for help (Q-n) to a partner or an internal function, timed to its first response.

The person asked gets **Accept** / **Decline** / **Answer**; the asker is told of each response.
The first response of any kind stops the follow-up (jobs.py): a nudge to the
person after `cadence.asks.nudge_after_hours`, their manager told after `escalate_after_hours`.
"""
from __future__ import annotations

import re
from datetime import date

from handlers.asks.messages import answered_reply, ask_card, response_buttons, response_form, tail_text, told_asker
from handlers.asks.service import link_text, respond, schedule_follow_up, snapshot
from handlers.kernel.context import Context
from handlers.kernel.dates import is_date, parse_date
from handlers.kernel.errors import FieldErrors, UserError
from handlers.kernel.grammar import parse_ref, ref_kind, split_by_date
from handlers.kernel.history import show_with_history
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.kernel.text import ask_line
from handlers.partnerships import policy
from handlers.partnerships.service import find_partnership
from storage.models import Ask

_BY_FIRST = re.compile(r"by\s", re.IGNORECASE)
RESPONSES = ("accept", "decline", "answer")


# --- ask @person … -----------------------------------------------------------------------------
async def ask(ctx: Context, args: str) -> Reply:
    first = args.strip().split(" ", 1)[0]
    if parse_ref(first, "Q") is not None:
        return await _respond(ctx, args)
    return await _create(ctx, args)


def _take_re(text: str) -> tuple[str, str | None]:
    """'<text> re P-1' → ('<text>', 'P-1'); a `re` not followed by a reference stays in the text.
    By its last two words, not a regex search (`\\s+re\\s+…$` was quadratic in a run of spaces)."""
    words = text.rsplit(None, 2)
    if len(words) >= 2 and words[-2].lower() == "re" and ref_kind(words[-1]):
        return (words[0].strip() if len(words) == 3 else ""), words[-1]
    return text.strip(), None


def split_request(text: str, today: date) -> tuple[str, str | None, str | None]:
    """'<request> [by <date>] [re <ref>]' (the two tails in either order) → (request, date phrase, ref)."""
    body, ref = _take_re(text)
    if _BY_FIRST.match(body):  # a date and no request?
        phrase = body[2:].lstrip()
        if "\n" not in phrase and is_date(phrase, today):
            return "", phrase, ref
    request, phrase = split_by_date(body, today)
    if ref is None and phrase is not None:
        request, ref = _take_re(request)
    return request, phrase, ref


async def _links(ctx: Context, token: str) -> dict:
    kind = ref_kind(token)
    if kind == "H":
        handoff = await ctx.store.handoff_for(ctx.workspace.id, ctx.ref_number(token, "H", "handoff"), ctx.caller.id)
        if handoff is None:
            raise UserError(f"There is no handoff {token.upper()} here.")
        return {"handoff_id": handoff.id}
    if kind == "L":
        lead = await ctx.store.lead_for(ctx.workspace.id, ctx.ref_number(token, "L", "lead"), ctx.caller.id,
                                        ctx.command.channel)
        if lead is None:
            raise UserError(f"There is no lead {token.upper()} here.")
        return {"lead_id": lead.id}
    if kind == "P":
        return {"partnership_id": (await find_partnership(ctx, token)).id}
    raise UserError(f"An ask can be about a handoff, a lead or a partnership (`re H-1`, `re L-1`, `re P-1`), "
                    f"not {token.upper()}.")


async def _create(ctx: Context, args: str) -> Reply:
    person, rest = await ctx.take_person(args, "the person you ask")
    if person.id == ctx.caller.id:
        raise UserError("You can't ask yourself for help; mention the person who can help.")
    request, date_phrase, re_token = split_request(rest, ctx.today)
    if not request:
        raise UserError(f"Say what you need from {person.display_name} after the mention: "
                        f"`ask @maria special credit terms for Distributor X by fri`.")
    due_date = parse_date(date_phrase, ctx.today) if date_phrase else None
    links = await _links(ctx, re_token) if re_token else {}

    a = Ask(workspace_id=ctx.workspace.id, number=await ctx.store.next_number(ctx.workspace.id, Ask.KIND),
            asker_id=ctx.caller.id, person_id=person.id, request=request, due_date=due_date,
            created_at=ctx.now, **links)
    schedule_follow_up(a, ctx.settings.cadence.asks.nudge_after_hours)
    await ctx.store.add(a)
    ref = a.ref
    await ctx.log("ask.created", ref, after=snapshot(a), workspace_id=a.workspace_id)
    link = await link_text(ctx.store, a)
    tail = tail_text(a, link)
    reachable = await ctx.notify(person, "ask.request", ref, Reply(
        f"{ctx.caller.display_name} asks you for help ({ref}): {a.request}{tail}. Accept, decline or answer it.",
        cards=(ask_card(a, ctx.caller, link, f"{ref} · {ctx.caller.display_name} asks for your help",
                        response_buttons(ref)),),
    ))
    sent = f"{ref} sent to {person.display_name}: {a.request}{tail}."
    if not reachable:
        return Reply(f"{sent} {person.display_name} has not talked to Partnerbot yet, so I can't message them; "
                     f"the request waits and reaches them as soon as they do.")
    return Reply(f"{sent} I'll tell you when they respond.")


# --- ask Q-n accept | decline [reason] | answer <text> -----------------------------------------
async def _respond(ctx: Context, args: str) -> Reply:
    token, _, rest = args.strip().partition(" ")
    action, _, text = rest.strip().partition(" ")
    action, text = action.lower(), text.strip()
    number = ctx.ref_number(token, "Q", "request")
    a = await ctx.store.ask_for(ctx.workspace.id, number, ctx.caller.id)
    if a is None:
        raise UserError(f"There is no ask Q-{number} here.")
    ref = a.ref
    if not action:  # `ask Q-n`: show it with its history
        people = await ctx.store.people({a.asker_id, a.person_id})
        await policy.may_see_record(ctx, ref, people[a.asker_id], people[a.person_id])
        return await show_with_history(ctx, a.workspace_id, ref, ask_line(a, people, ctx.caller.id))
    if action not in RESPONSES:
        raise UserError(f"'{action}' is not a response to {ref}: accept, decline or answer.")
    people = await ctx.store.people({a.asker_id, a.person_id})
    asker, person = people[a.asker_id], people[a.person_id]
    policy.may_respond(ctx, a, person)
    if a.status in ("declined", "answered"):
        raise UserError(f"{ref} was already {a.status}.")
    if action == "accept" and a.status == "accepted":
        raise UserError(f"{ref} was already accepted; answer it with `ask {ref} answer <text>`.")

    form_values = ctx.command.form_values
    text = text or (form_values or {}).get("answer" if action == "answer" else "reason", "").strip()
    if not text and action != "accept":
        if ctx.command.from_button and form_values is None:  # a button: ask for it in a form
            return Reply(f"{'Your answer to' if action == 'answer' else 'Why are you declining'} {ref}?",
                         form=response_form(a, asker, action))
        if action == "answer" and form_values is not None:  # the form came back empty: keep it open
            raise FieldErrors(response_form(a, asker, action), {"answer": "Write the answer before sending it."})
        if action == "answer":
            raise UserError(f"Say the answer: `ask {ref} answer <text>`.")

    await respond(ctx, a, action, text)
    link = await link_text(ctx.store, a)
    await ctx.notify(asker, f"ask.{a.status}", ref, told_asker(a, person, action, text, link))
    return answered_reply(a, asker, action, text, link, replace_source=ctx.command.from_button)


VERBS = [
    Verb("ask", (
        "ask @person <request> [by <date>] [re H-n|L-n|P-n]",
        "ask Q-n accept",
        "ask Q-n decline [reason]",
        "ask Q-n answer <text>",
        "ask Q-n",
    ), "ask someone for help (a partner, pricing, credit, returns…); they accept, decline or answer", (
        "ask @maria special credit terms for Distributor X by fri re P-1",
        "ask @lee a return authorisation for the Acme order re H-3",
        "ask Q-4 accept",
        "ask Q-4 answer approved: net 60 for this order",
        "ask Q-4 decline credit is not my team, try finance",
        "ask Q-4",
    ), ask),
]
