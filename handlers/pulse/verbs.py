"""pulse: the partnership health check now; answering it (what the Answer button runs)."""
from __future__ import annotations

import re

from handlers.kernel.context import Context, JobContext
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import FieldErrors, UserError
from handlers.kernel.grammar import parse_ref
from handlers.kernel.model import Card, Form, Question, Reply
from handlers.kernel.registry import Verb
from handlers.partnerships import policy
from handlers.partnerships.service import find_partnership
from handlers.pulse.results import COMMENT, DIMENSIONS, SCALE, period_label
from handlers.pulse.service import close, instant_period, open_pulse, prompt_members
from storage.models import Partnership, Pulse, PulseAnswer

RATINGS = ("1", "2", "3", "4", "5")  # picked, not typed: what each rating offers
_WHOLE = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


async def pulse(ctx: Context, args: str) -> Reply:
    words = args.split()
    action = words[0].lower() if words else ""
    if action in ("answer", "submit"):
        if len(words) > 3 or (action == "answer" and len(words) > 2):
            raise UserError(f"I don't understand '{' '.join(words[2:])}'; say `pulse {action} P-1`.")
        p = await _partnership(ctx, words[1] if len(words) > 1 else "", f"pulse {action}")
        if action == "answer":
            return await _answer(ctx, p)
        return await _submit(ctx, p, words[2] if len(words) > 2 else None)
    if len(words) > 1 or (words and parse_ref(words[0], "P") is None):
        raise UserError("Say `pulse` or `pulse P-1` to ask every member of a partnership now, "
                        "or `pulse answer P-1` to answer.")
    return await _now(ctx, await _partnership(ctx, words[0] if words else "", "pulse"))


def _scheduled(ctx: Context) -> JobContext:
    """Closing a pulse is the scheduler's work, whoever set it off: logged as such."""
    return JobContext(ctx.store, ctx.now, ctx.settings)


async def _partnership(ctx: Context, token: str, verb: str) -> Partnership:
    """P-n when given (the caller must be a member), else the one partnership they belong to."""
    if token:
        p = await find_partnership(ctx, token)
        if await policy.membership(ctx, p) is None:
            raise UserError(f"You are not a member of {p.ref}: its health pulse is for its members. "
                            f"Ask one of its managers to add you.")
        return p
    mine = await ctx.store.member_partnerships(ctx.caller.id)
    if not mine:
        raise UserError("You are not a member of any partnership; the health pulse is for a partnership's members.")
    if len(mine) > 1:
        choices = ", ".join(m.ref for m in mine)
        raise UserError(f"You belong to several partnerships ({choices}); say which: `{verb} {mine[0].ref}`.")
    return mine[0]


# --- pulse [P-n] --------------------------------------------------------------------------------
async def _now(ctx: Context, p: Partnership) -> Reply:
    store = ctx.store
    p = await store.lock_partnership(p.id)  # a second `pulse` (or the tick) waits, then sees this one
    policy.require_accepted(p, "ask for its health pulse")
    cad = _scheduled(ctx)
    already = await store.open_pulse(p.id)
    if already and already.closes_at <= ctx.now:  # due to close at this minute's tick: now, then
        await close(cad, already, p)
        already = None
    if already:
        raise UserError(f"A health pulse of {p.ref} is open already ({period_label(already, ctx.tz)}); "
                        f"it closes {format_instant(already.closes_at, ctx.tz)} or once everyone has answered. "
                        f"Answer it with `pulse answer {p.ref}`.")
    opened = await open_pulse(cad, p, instant_period(ctx.now), ctx.caller, ctx.platform)
    if opened is None:  # the same instant's pulse, opened by a retried delivery
        raise UserError(f"A health pulse of {p.ref} was opened this very second; answer it with "
                        f"`pulse answer {p.ref}`.")
    waiting = await prompt_members(cad, opened, p, opener=ctx.caller)
    others = len(await store.pulse_answers(opened.id)) - 1
    text = (f"Health pulse of {p.ref} {p.name} opened: {others} other member(s) asked to answer by "
            f"{format_instant(opened.closes_at, ctx.tz)}. Opening your form.")
    if waiting:
        names = ", ".join(person.display_name for person in waiting)
        text += f" {names} have not talked to Partnerbot yet: their prompt waits until they do."
    mine = await store.pulse_answer(opened.id, ctx.caller.id)
    return Reply(text, form=answer_form(opened, p, mine, ctx.tz))


# --- the form -----------------------------------------------------------------------------------
def answer_form(pulse: Pulse, p: Partnership, mine: PulseAnswer, tz: str) -> Form:
    return Form(
        title=f"Health pulse {p.ref}",
        intro=(f"{p.ref} {p.name}, {period_label(pulse, tz)}; you are on side {mine.side.upper()}. "
               f"Rate each of the five \"shared\" from {SCALE}: risk (both sides carry it), resources (both "
               f"invest), rewards (both gain), vision (the same goal), values (the same way of working). "
               f"Results go out per side, never per person."),
        submit_command=f"pulse submit {p.ref} {pulse.period}",
        questions=tuple(Question(id=dim, label=label, multiline=False, hint=SCALE, kind="choice", choices=RATINGS)
                        for dim, label in DIMENSIONS) + (
            Question(id=COMMENT, label="Comment (optional)", multiline=True,
                     hint="Unsigned; shown with your side's results when the sides are 2 points or more apart."),),
    )


async def _answering(ctx: Context, p: Partnership, period: str | None) -> tuple[Pulse, PulseAnswer]:
    """The pulse the caller answers and their part in it, or the reason they cannot."""
    store = ctx.store
    pulse = await store.pulse_of_period(p.id, period) if period else await store.open_pulse(p.id)
    if pulse is None and period:
        raise UserError(f"{p.ref} has no health pulse '{period}'; answer the open one with "
                        f"`pulse answer {p.ref}`.")
    if pulse is None or pulse.closed_at or pulse.closes_at <= ctx.now:
        last = pulse or await store.last_closed_pulse(p.id)
        closed = "none has been asked for yet"
        if last:
            when = format_instant(last.closed_at or last.closes_at, ctx.tz)
            closed = f"its {period_label(last, ctx.tz)} pulse closed {when} and its results went out"
        nxt = f" The next one opens {format_instant(p.pulse_next_at, ctx.tz)}." if p.pulse_next_at else ""
        raise UserError(f"{p.ref} has no health pulse open: {closed}.{nxt} "
                        f"To ask every member now: `pulse {p.ref}`.")
    mine = await store.pulse_answer(pulse.id, ctx.caller.id)
    if mine is None:
        raise UserError(f"You joined {p.ref} after this health pulse opened, so it does not ask you; "
                        f"the next one will.")
    if mine.answered_at:
        raise UserError(f"You already answered this health pulse of {p.ref} "
                        f"({format_instant(mine.answered_at, ctx.tz)}); each member answers once and your "
                        f"answer stands.")
    return pulse, mine


async def _answer(ctx: Context, p: Partnership) -> Reply:
    pulse, mine = await _answering(ctx, p, None)
    return Reply(f"Opening the health pulse form of {p.ref} {p.name}.", form=answer_form(pulse, p, mine, ctx.tz))


# --- pulse submit P-n [period] ----------------------------------------------------------------------
def score_problems(values: dict) -> tuple[dict[str, int], dict[str, str]]:
    """The five ratings, each a whole number from 1 to 5, and what is wrong with every one that
    is not, by rating (a picker sends only 1 to 5; a text client may send anything)."""
    scores, problems = {}, {}
    for dim, _ in DIMENSIONS:
        raw = (values.get(dim) or "").strip()
        if not raw:
            problems[dim] = f"Missing: pick {SCALE}."
        elif _WHOLE.match(raw) and 1 <= int(raw) <= 5:
            scores[dim] = int(raw)
        elif _WHOLE.match(raw):
            problems[dim] = f"{raw} is outside 1 to 5: pick {SCALE}."
        elif _NUMBER.match(raw):
            problems[dim] = f"{raw} is not a whole number: pick {SCALE}."
        else:
            problems[dim] = f"'{raw[:40]}' is not a number: pick {SCALE}."
    return scores, problems


async def _submit(ctx: Context, p: Partnership, period: str | None) -> Reply:
    values = ctx.command.form_values
    if values is None:
        raise UserError(f"Answer the health pulse with its form: click Answer or type `pulse answer {p.ref}`.")
    pulse, mine = await _answering(ctx, p, period)
    scores, problems = score_problems(dict(values))
    if problems:  # the form comes back with every answer kept, the reason under each bad rating
        raise FieldErrors(answer_form(pulse, p, mine, ctx.tz), problems)
    mine.scores, mine.answered_at = scores, ctx.now
    mine.comment = (values.get(COMMENT) or "").strip() or None
    # the log says who answered, not what: ratings are shown per side, never per person
    await ctx.log("pulse.answered", p.ref, after={"period": pulse.period, "side": mine.side},
                  workspace_id=p.workspace_id)
    await ctx.store.flush()  # the answers below are read in their order of answering
    answers = await ctx.store.pulse_answers(pulse.id)
    waiting = sum(1 for a in answers if not a.answered_at)
    text = f"Your health pulse answer for {p.ref} {p.name} is saved."
    if waiting:
        text += (f" {waiting} member(s) still to answer; the results go out when they have, or at "
                 f"{format_instant(pulse.closes_at, ctx.tz)}.")
    elif await close(_scheduled(ctx), pulse, p):
        text += " Everyone has answered: the results are on their way to both managers and the partnership's channels."
    return Reply(text, cards=(Card(title=f"{p.ref} health pulse answered", text=text),),
                 replace_source=ctx.command.from_button)


VERBS = [
    Verb("pulse", ("pulse [P-n]", "pulse answer P-n"),
         "the partnership health check: every member rates shared risk, resources, rewards, vision and values", (
             "pulse", "pulse P-2", "pulse answer P-1",
         ), pulse),
]
