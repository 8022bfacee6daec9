"""commit, done, drop, snooze: who does what by when."""
from __future__ import annotations

import re
from datetime import date

from handlers.commitments import service
from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant, parse_date
from handlers.kernel.errors import FieldErrors, UserError
from handlers.kernel.grammar import MENTION, DatedText, parse_ref, ref_kind, tail_mention
from handlers.kernel.history import show_with_history
from handlers.kernel.model import Form, Question, Reply
from handlers.kernel.registry import Verb
from handlers.kernel.text import commitment_line
from handlers.partnerships import policy
from storage.models import Commitment

# (?<!\s): tried once per run of blanks, not once per blank (quadratic in a run of spaces)
_RE_WORD = re.compile(r"(?<!\s)\s+re\s+", re.IGNORECASE)


def _split_commit(text: str, today: date) -> tuple[str, str | None, str | None, str | None]:
    """'<what> by <date> [to @person] [re <target>]' → (what, date phrase, assignee mention, re target).

    `re` is taken at its last occurrence that leaves a dated commitment before it, so
    'look re pricing by fri re Acme' keeps 're pricing' in what it says.

    Linear in the text: each ` re `, from the last, is tried by reading only the few words
    before it (its `to @person`, then its `by <date>`: grammar.DatedText), never by parsing
    all that comes before it again. Why: that made a 6 KB command take 5.5 s.
    """
    body = text.strip()
    to = tail_mention(body, "to")
    body, assignee = (body[: to.start], to.mention) if to else (body, None)
    dated = DatedText(body, today)
    for m in reversed(list(_RE_WORD.finditer(body))):
        head_to = tail_mention(body, "to", end=m.start())
        head_end = head_to.start if head_to else m.start()
        if dated.last_by(head_end) is not None and not (assignee and head_to):
            what, phrase = dated.split(head_end)
            return what, phrase, assignee or (head_to and head_to.mention), body[m.end():].strip()
    what, phrase = dated.split()
    return what, phrase, assignee, None


async def show(ctx: Context, token: str) -> Reply:
    """`commit C-n`: the commitment and its history, for whoever may see its owner's list."""
    c = await ctx.store.commitment_for(ctx.workspace.id, ctx.ref_number(token, "C", "commitment"), ctx.caller.id)
    if c is None:
        raise UserError(f"There is no commitment {token.upper()} here.")
    owner = await ctx.store.get_person(c.owner_id)
    await policy.may_see_record(ctx, c.ref, owner)
    status = {"open": "open", "done": "kept", "dropped": "dropped"}.get(c.status, c.status)
    if c.closed_at is not None:
        status += f" {format_instant(c.closed_at, ctx.tz)}" + (f" — {c.close_note}" if c.close_note else "")
    return await show_with_history(ctx, c.workspace_id, c.ref, f"{commitment_line(c, owner, ctx.tz)} · {status}")


async def commit(ctx: Context, args: str) -> Reply:
    if parse_ref(args.strip(), "C") is not None:
        return await show(ctx, args.strip())
    what, date_phrase, assignee_token, re_target = _split_commit(args, ctx.today)
    if date_phrase is None:
        raise UserError("A commitment needs a date: add `by <date>`, e.g. `by fri`.")
    if not what:
        raise UserError("Say what you will do before `by`.")
    due_date = parse_date(date_phrase, ctx.today)

    owner = ctx.caller
    if assignee_token:
        m = MENTION.match(assignee_token)
        owner = await ctx.mentioned_person(m.group(1), m.group(2))
        await policy.may_assign(ctx, owner)

    links: dict = {}
    if re_target:
        kind = ref_kind(re_target)
        if kind == "H":
            number = ctx.ref_number(re_target, "H", "handoff")
            handoff = await ctx.store.handoff_for(ctx.workspace.id, number, ctx.caller.id)
            if handoff is None:
                raise UserError(f"There is no handoff {re_target.upper()} here.")
            await policy.may_credit_handoff(ctx, handoff)
            links = {"handoff_id": handoff.id, "account": handoff.account}
        elif kind == "L":
            lead = await ctx.store.lead_for(ctx.workspace.id, ctx.ref_number(re_target, "L", "lead"),
                                            ctx.caller.id, ctx.command.channel)
            if lead is None:
                raise UserError(f"There is no lead {re_target.upper()} here.")
            await policy.may_credit_lead(ctx, lead)
            links = {"lead_id": lead.id, "account": lead.account}
        elif kind in {"P", "C", "M", "S", "Q"}:
            raise UserError(f"There is no {re_target.upper()} here to link to.")
        else:
            links = {"account": re_target}
    c = await service.create(ctx, owner, what, due_date=due_date, last_write=True, **links)
    return Reply(service.saved_text(ctx, c, owner))


async def _own_open_commitment(ctx: Context, token: str) -> Commitment:
    c = await ctx.store.commitment_for(ctx.workspace.id, ctx.ref_number(token, "C", "commitment"), ctx.caller.id)
    if c is None:
        raise UserError(f"There is no commitment {token.upper()} here.")
    await policy.may_change_commitment(ctx, c)
    if c.status != "open":
        raise UserError(f"{c.ref} is already {'kept' if c.status == 'done' else 'dropped'}.")
    return c


async def done(ctx: Context, args: str) -> Reply:
    token, _, note = args.strip().partition(" ")
    if not token:
        raise UserError("Say which commitment: `done C-1`.")
    c = await _own_open_commitment(ctx, token)
    await service.keep(ctx, c, note.strip() or None)
    timing = "on time" if ctx.now <= c.due_at else "late"
    return Reply(f"{c.ref} kept ({timing}): {c.what}.", replace_source=ctx.command.from_button)


async def drop(ctx: Context, args: str) -> Reply:
    token, _, reason = args.strip().partition(" ")
    if not token:
        raise UserError("Say which commitment and why: `drop C-1 customer paused`.")
    c = await _own_open_commitment(ctx, token)
    ref = c.ref
    reason = reason.strip() or (ctx.command.form_values or {}).get("reason", "").strip()
    if not reason:
        form = Form(title=f"Drop {ref}", submit_command=f"drop {ref}", submit_label="Drop",
                    intro=f"{ref}: {c.what}. Your partner sees the reason.",
                    questions=(Question("reason", "Reason", multiline=False),))
        if ctx.command.form_values is not None:  # the form came back empty: keep it open, say why
            raise FieldErrors(form, {"reason": "Give a reason, so your partner knows why."})
        if ctx.command.from_button:  # the Drop button of a reminder: ask for the reason
            return Reply(f"Why are you dropping {ref}?", form=form)
        raise UserError(f"Give a reason for dropping {ref}, so your partner knows why.")
    await service.drop(ctx, c, reason)
    return Reply(f"{ref} dropped: {c.what}. Reason: {reason}.", replace_source=ctx.command.from_button)


async def snooze(ctx: Context, args: str) -> Reply:
    token, _, rest = args.strip().partition(" ")
    if not token:
        raise UserError("Say which commitment: `snooze C-1`.")
    days = 1
    if rest.strip():
        m = re.fullmatch(r"(\d{1,2})\s*(?:d|days?)?", rest.strip(), re.IGNORECASE)
        if not m or not 1 <= int(m.group(1)) <= 30:
            raise UserError("Snooze by a number of days from 1 to 30: `snooze C-1 2d`.")
        days = int(m.group(1))
    c = await _own_open_commitment(ctx, token)
    due = await service.snooze(ctx, c, await ctx.store.get_person(c.owner_id), days)
    return Reply(f"{c.ref} snoozed: now due {due}: {c.what}.", replace_source=ctx.command.from_button)


async def reopen(ctx: Context, args: str) -> Reply:
    token = args.strip()
    if not token or " " in token:
        raise UserError("Say which commitment to reopen: `reopen C-1`.")
    c = await ctx.store.commitment_for(ctx.workspace.id, ctx.ref_number(token, "C", "commitment"), ctx.caller.id)
    if c is None:
        raise UserError(f"There is no commitment {token.upper()} here.")
    await policy.may_reopen_commitment(ctx, c)
    if c.status == "open":
        raise UserError(f"{c.ref} is open already: only a kept or dropped commitment can be reopened.")
    was = "kept" if c.status == "done" else "dropped"
    await service.reopen(ctx, c)
    due = format_instant(c.due_at, ctx.timezone_of(await ctx.store.get_person(c.owner_id)))
    return Reply(f"{c.ref} reopened (it was {was}): {c.what} — due {due}; its reminders are back on.")


VERBS = [
    Verb("commit", ("commit <what> by <date> [to @person] [re <account or H-n or L-n>]", "commit C-n"),
         "record who does what by when; commit C-n shows one with its history", (
             "commit send pricing deck to Acme by fri",
             "commit book the security review by next week re H-3",
             "commit call the CFO by dec 3 to @maria re Acme Corp",
             "commit C-12",
         ), commit),
    Verb("done", ("done C-n [note]",), "mark a commitment kept",
         ("done C-12", "done C-12 sent with the case study"), done),
    Verb("drop", ("drop C-n <reason>",), "release a commitment openly, with a reason",
         ("drop C-12 customer paused the project",), drop),
    Verb("reopen", ("reopen C-n",), "undo a mistaken done or drop: open it again, with its reminders",
         ("reopen C-12",), reopen),
    Verb("snooze", ("snooze C-n [days]",), "move a commitment's due date on by a day (or a few)",
         ("snooze C-12", "snooze C-12 3d"), snooze),
]
