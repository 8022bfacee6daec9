"""ask: a request for help (Q-n) to a partner or an internal function, timed to its first response.

The person asked gets **Accept** / **Decline** / **Answer**; the asker is told of each response.
The first response of any kind stops the follow-up (handlers/ask_cadence.py): a nudge to the
person after `cadence.asks.nudge_after_hours`, their manager told after `escalate_after_hours`.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.kernel.context import Context
from handlers.kernel.dates import is_date, parse_date
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import parse_ref, ref_kind, split_by_date
from handlers.kernel.model import Button, Card, Fact, Form, Question, Reply
from handlers.partnerships.verbs import find_partnership
from handlers.kernel.registry import Verb
from storage.models import Ask, Handoff, Lead, Partnership, Person
from storage.store import Store

_RE_TAIL = re.compile(r"\s+re\s+(\S+)\s*$", re.IGNORECASE)
_ONLY_DATE = re.compile(r"^by\s+(.+)$", re.IGNORECASE)
RESPONSES = ("accept", "decline", "answer")


def qref(a: Ask) -> str:
    return f"Q-{a.number}"


def day_text(d: date) -> str:
    """'Fri 27 Nov'."""
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b')}"


def _snapshot(a: Ask) -> dict:
    return {"status": a.status, "request": a.request, "person_id": a.person_id,
            "due_date": a.due_date.isoformat() if a.due_date else None,
            "decline_reason": a.decline_reason, "answer": a.answer}


# --- the follow-up clock ------------------------------------------------------------------------
def schedule_follow_up(a: Ask, nudge_after_hours: float) -> None:
    a.cadence_at, a.cadence_step = a.created_at + timedelta(hours=nudge_after_hours), "nudge"


def stop_follow_up(a: Ask) -> None:
    a.cadence_at = a.cadence_step = None


# --- how an ask is shown -----------------------------------------------------------------------
def response_buttons(ref: str, accepted: bool = False) -> tuple[Button, ...]:
    accept = () if accepted else (Button("Accept", f"ask {ref} accept", "primary"),)
    return (*accept, Button("Decline", f"ask {ref} decline", "danger"), Button("Answer", f"ask {ref} answer"))


async def link_text(store: Store, a: Ask) -> str | None:
    """What the ask is about: 'P-1 Acme Alliance', 'H-2 (Acme Corp)', 'L-3 (Acme)'; None when nothing."""
    if a.partnership_id:
        p = await store.session.get(Partnership, a.partnership_id)
        return f"P-{p.number} {p.name}"
    if a.handoff_id:
        h = await store.session.get(Handoff, a.handoff_id)
        return f"H-{h.number} ({h.account})"
    if a.lead_id:
        lead = await store.session.get(Lead, a.lead_id)
        return f"L-{lead.number} ({lead.account})"
    return None


def tail_text(a: Ask, link: str | None) -> str:
    """' — by Fri 27 Nov, re P-1 Acme Alliance' (or the part of it there is)."""
    parts = ([f"by {day_text(a.due_date)}"] if a.due_date else []) + ([f"re {link}"] if link else [])
    return f" — {', '.join(parts)}" if parts else ""


def ask_card(a: Ask, asker: Person, link: str | None, title: str, buttons: tuple[Button, ...] = (),
             extra: tuple[Fact, ...] = ()) -> Card:
    facts = [Fact("From", asker.display_name)]
    if a.due_date:
        facts.append(Fact("By", day_text(a.due_date)))
    if link:
        facts.append(Fact("Re", link))
    return Card(title=title, text=a.request, facts=(*facts, *extra), buttons=buttons)


# --- ask @person … -----------------------------------------------------------------------------
async def ask(ctx: Context, args: str) -> Reply:
    first = args.strip().split(" ", 1)[0]
    if parse_ref(first, "Q") is not None:
        return await _respond(ctx, args)
    return await _create(ctx, args)


def _take_re(text: str) -> tuple[str, str | None]:
    """'<text> re P-1' → ('<text>', 'P-1'); a `re` not followed by a reference stays in the text."""
    m = _RE_TAIL.search(" " + text)
    if m and ref_kind(m.group(1)):
        return (" " + text)[: m.start()].strip(), m.group(1)
    return text.strip(), None


def split_request(text: str, today: date) -> tuple[str, str | None, str | None]:
    """'<request> [by <date>] [re <ref>]' (the two tails in either order) → (request, date phrase, ref)."""
    body, ref = _take_re(text)
    m = _ONLY_DATE.match(body)
    if m and is_date(m.group(1), today):  # a date and no request
        return "", m.group(1), ref
    request, phrase = split_by_date(body, today)
    if ref is None and phrase is not None:
        request, ref = _take_re(request)
    return request, phrase, ref


async def _links(ctx: Context, token: str) -> dict:
    kind = ref_kind(token)
    if kind == "H":
        handoff = await ctx.store.handoff(ctx.workspace.id, ctx.ref_number(token, "H", "handoff"))
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

    a = Ask(workspace_id=ctx.workspace.id, number=await ctx.store.next_number(ctx.workspace.id, "Q"),
            asker_id=ctx.caller.id, person_id=person.id, request=request, due_date=due_date,
            created_at=ctx.now, **links)
    schedule_follow_up(a, ctx.settings.get("cadence.asks.nudge_after_hours"))
    await ctx.store.add(a)
    ref = qref(a)
    await ctx.log("ask.created", ref, after=_snapshot(a), workspace_id=a.workspace_id)
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
    ref = qref(a)
    if not action:
        raise UserError(f"Say how you respond to {ref}: accept, decline [reason] or answer <text>.")
    if action not in RESPONSES:
        raise UserError(f"'{action}' is not a response to {ref}: accept, decline or answer.")
    people = await ctx.store.people({a.asker_id, a.person_id})
    asker, person = people[a.asker_id], people[a.person_id]
    if a.person_id != ctx.caller.id:
        raise UserError(f"{ref} is someone else's record: only {person.display_name}, who was asked, "
                        f"can accept, decline or answer it.")
    if a.status in ("declined", "answered"):
        raise UserError(f"{ref} was already {a.status}.")
    if action == "accept" and a.status == "accepted":
        raise UserError(f"{ref} was already accepted; answer it with `ask {ref} answer <text>`.")

    form_values = ctx.command.form_values
    text = text or (form_values or {}).get("answer" if action == "answer" else "reason", "").strip()
    if not text and action != "accept":
        if ctx.command.from_button and form_values is None:  # a button: ask for it in a form
            return Reply(f"{'Your answer to' if action == 'answer' else 'Why are you declining'} {ref}?",
                         form=_form(a, asker, action))
        if action == "answer":
            raise UserError(f"Say the answer: `ask {ref} answer <text>`.")

    before = _snapshot(a)
    if a.first_response_at is None:
        a.first_response_at = ctx.now
    stop_follow_up(a)
    if action == "accept":
        a.status, a.accepted_at = "accepted", ctx.now
    elif action == "decline":
        a.status, a.declined_at, a.decline_reason = "declined", ctx.now, text or None
    else:
        a.status, a.answered_at, a.answer = "answered", ctx.now, text
    verb = a.status
    await ctx.log(f"ask.{verb}", ref, before=before, after=_snapshot(a), workspace_id=a.workspace_id)

    link = await link_text(ctx.store, a)
    if action == "accept":
        told = f"{person.display_name} accepted {ref}: {a.request}{tail_text(a, link)}. They'll answer it here."
        cards: tuple[Card, ...] = ()
    elif action == "decline":
        told = f"{person.display_name} declined {ref}: {a.request}." + (f" Reason: {text}." if text else "")
        cards = ()
    else:
        told = f"{person.display_name} answered {ref} ({a.request}): {text}"
        cards = (Card(title=f"{ref} answered by {person.display_name}", text=text,
                      facts=(Fact("You asked", a.request),)),)
    await ctx.notify(asker, f"ask.{verb}", ref, Reply(told, cards=cards))

    done = {"accept": f"You accepted {ref}: {a.request}. {asker.display_name} has been told; answer it with "
                      f"`ask {ref} answer <text>`.",
            "decline": f"You declined {ref}: {a.request}." + (f" Reason: {text}." if text else "")
                       + f" {asker.display_name} has been told.",
            "answer": f"You answered {ref} ({a.request}): {text}. {asker.display_name} has been told."}[action]
    buttons = response_buttons(ref, accepted=True) if action == "accept" else ()
    extra = (Fact("Reason", text),) if action == "decline" and text else \
        (Fact("Answer", text),) if action == "answer" else ()
    return Reply(done, cards=(ask_card(a, asker, link, f"{ref} — {verb}", buttons, extra),),
                 replace_source=ctx.command.from_button)


def _form(a: Ask, asker: Person, action: str) -> Form:
    ref = qref(a)
    if action == "answer":
        return Form(title=f"Answer {ref}", submit_command=f"ask {ref} answer", submit_label="Send",
                    intro=f"{ref} from {asker.display_name}: {a.request}. {asker.display_name} gets your answer.",
                    questions=(Question("answer", "Answer"),))
    return Form(title=f"Decline {ref}", submit_command=f"ask {ref} decline", submit_label="Decline",
                intro=f"{ref} from {asker.display_name}: {a.request}. {asker.display_name} sees the reason.",
                questions=(Question("reason", "Reason", multiline=False),))


VERBS = [
    Verb("ask", (
        "ask @person <request> [by <date>] [re H-n|L-n|P-n]",
        "ask Q-n accept",
        "ask Q-n decline [reason]",
        "ask Q-n answer <text>",
    ), "ask someone for help (a partner, pricing, credit, returns…); they accept, decline or answer", (
        "ask @maria special credit terms for Distributor X by fri re P-1",
        "ask @lee a return authorisation for the Acme order re H-3",
        "ask Q-4 accept",
        "ask Q-4 answer approved: net 60 for this order",
        "ask Q-4 decline credit is not my team, try finance",
    ), ask),
]
