"""commit, done, drop: who does what by when."""
from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.kernel.context import Context
from handlers.kernel.dates import due_instant, format_instant, local_today, parse_date
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import MENTION, ref_kind, split_by_date
from handlers.kernel.model import Card, Fact, Form, Question, Reply
from handlers.kernel.registry import Verb
from handlers.commitments.messages import schedule_reminders, stop_reminders
from storage.models import Commitment, Person

_TO = re.compile(r"\s+to\s+(" + MENTION.pattern + r")\s*$", re.IGNORECASE)
_RE_WORD = re.compile(r"\s+re\s+", re.IGNORECASE)


def _snapshot(c: Commitment) -> dict:
    return {"status": c.status, "what": c.what, "due_date": c.due_date.isoformat(),
            "owner_id": c.owner_id, "note": c.close_note}


def _split_commit(text: str, today: date) -> tuple[str, str | None, str | None, str | None]:
    """'<what> by <date> [to @person] [re <target>]' → (what, date phrase, assignee mention, re target).

    `re` is taken at its last occurrence that leaves a dated commitment before it, so
    'look re pricing by fri re Acme' keeps 're pricing' in what it says.
    """
    def strip_to(part: str) -> tuple[str, str | None]:
        m = _TO.search(part)
        return (part[: m.start()], m.group(1)) if m else (part, None)

    body, assignee = strip_to(text.strip())
    for m in reversed(list(_RE_WORD.finditer(body))):
        head, head_assignee = strip_to(body[: m.start()])
        if split_by_date(head, today)[1] is not None and not (assignee and head_assignee):
            what, phrase = split_by_date(head, today)
            return what, phrase, assignee or head_assignee, body[m.end():].strip()
    what, phrase = split_by_date(body, today)
    return what, phrase, assignee, None


async def commit(ctx: Context, args: str) -> Reply:
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
        if owner.id != ctx.caller.id and not await ctx.store.is_manager_of(ctx.caller.id, owner.id):
            raise UserError(f"Only {owner.display_name}'s manager can assign them a commitment; "
                            f"ask them to commit themselves.")

    links: dict = {}
    if re_target:
        kind = ref_kind(re_target)
        if kind == "H":
            handoff = await ctx.store.handoff(ctx.workspace.id, ctx.ref_number(re_target, "H", "handoff"))
            if handoff is None:
                raise UserError(f"There is no handoff {re_target.upper()} here.")
            links = {"handoff_id": handoff.id, "account": handoff.account}
        elif kind == "L":
            lead = await ctx.store.lead_for(ctx.workspace.id, ctx.ref_number(re_target, "L", "lead"),
                                            ctx.caller.id, ctx.command.channel)
            if lead is None:
                raise UserError(f"There is no lead {re_target.upper()} here.")
            links = {"lead_id": lead.id, "account": lead.account}
        elif kind in {"P", "C", "M", "S", "Q"}:
            raise UserError(f"There is no {re_target.upper()} here to link to.")
        else:
            links = {"account": re_target}
    c = await new_commitment(ctx, owner, what, due_date, **links)
    return Reply(saved_text(ctx, c, owner))


async def new_commitment(ctx: Context, owner: Person, what: str, due_date: date, workspace_id: int | None = None,
                         **links) -> Commitment:
    """Save C-n for `owner` (due at the configured time of `due_date`, their clock), with its
    reminders, logged; `owner` is told when someone else gave it to them. `links` are the
    Commitment's link fields (account, handoff_id, meeting_id, lead_id). It is numbered in
    `workspace_id`, the caller's by default: a meeting's or a lead's own when it belongs to one,
    so that its C-n reads the same in the Slack and the Teams channel of a partnership."""
    owner_tz = ctx.timezone_of(owner)
    workspace_id = workspace_id or ctx.workspace.id
    c = Commitment(
        workspace_id=workspace_id, number=await ctx.store.next_number(workspace_id, "C"),
        owner_id=owner.id, created_by_id=ctx.caller.id, what=what, due_date=due_date,
        due_at=due_instant(due_date, ctx.settings.get("cadence.commitments.due_time"), owner_tz),
        created_at=ctx.now, **links,
    )
    schedule_reminders(c, ctx.now, ctx.settings.get("cadence.commitments.remind_before_hours"))
    await ctx.store.add(c)
    ref = f"C-{c.number}"
    await ctx.log("commitment.created", ref, after=_snapshot(c), workspace_id=c.workspace_id)
    if owner.id != ctx.caller.id:
        due_text = format_instant(c.due_at, owner_tz)
        await ctx.notify(owner, "commitment.assigned", ref, Reply(
            f"{ctx.caller.display_name} assigned you {ref}: {what} — due {due_text}.",
            cards=(Card(title=f"{ref} assigned to you", text=what,
                        facts=(Fact("Due", due_text), Fact("From", ctx.caller.display_name))),),
        ))
    return c


def saved_text(ctx: Context, c: Commitment, owner: Person) -> str:
    due_text = format_instant(c.due_at, ctx.timezone_of(owner))
    if owner.id != ctx.caller.id:
        return f"C-{c.number} saved for {owner.display_name}: {c.what} — due {due_text}. They've been told."
    return f"C-{c.number} saved: {c.what} — due {due_text}."


async def _own_open_commitment(ctx: Context, token: str) -> Commitment:
    c = await ctx.store.commitment_for(ctx.workspace.id, ctx.ref_number(token, "C", "commitment"), ctx.caller.id)
    if c is None:
        raise UserError(f"There is no commitment {token.upper()} here.")
    ref = f"C-{c.number}"
    if c.owner_id != ctx.caller.id and not await ctx.store.is_manager_of(ctx.caller.id, c.owner_id):
        owner = await ctx.store.get_person(c.owner_id)
        raise UserError(f"{ref} belongs to {owner.display_name}; only they or their manager can change it.")
    if c.status != "open":
        raise UserError(f"{ref} is already {'kept' if c.status == 'done' else 'dropped'}.")
    return c


async def done(ctx: Context, args: str) -> Reply:
    token, _, note = args.strip().partition(" ")
    if not token:
        raise UserError("Say which commitment: `done C-1`.")
    c = await _own_open_commitment(ctx, token)
    before = _snapshot(c)
    c.status, c.closed_at, c.close_note = "done", ctx.now, note.strip() or None
    stop_reminders(c)
    ref = f"C-{c.number}"
    await ctx.log("commitment.done", ref, before=before, after=_snapshot(c), workspace_id=c.workspace_id)
    timing = "on time" if ctx.now <= c.due_at else "late"
    return Reply(f"{ref} kept ({timing}): {c.what}.", replace_source=ctx.command.from_button)


async def drop(ctx: Context, args: str) -> Reply:
    token, _, reason = args.strip().partition(" ")
    if not token:
        raise UserError("Say which commitment and why: `drop C-1 customer paused`.")
    c = await _own_open_commitment(ctx, token)
    ref = f"C-{c.number}"
    reason = reason.strip() or (ctx.command.form_values or {}).get("reason", "").strip()
    if not reason:
        if ctx.command.from_button:  # the Drop button of a reminder: ask for the reason
            return Reply(f"Why are you dropping {ref}?", form=Form(
                title=f"Drop {ref}", submit_command=f"drop {ref}", submit_label="Drop",
                intro=f"{ref}: {c.what}. Your partner sees the reason.",
                questions=(Question("reason", "Reason", multiline=False),)))
        raise UserError(f"Give a reason for dropping {ref}, so your partner knows why.")
    before = _snapshot(c)
    c.status, c.closed_at, c.close_note = "dropped", ctx.now, reason
    stop_reminders(c)
    await ctx.log("commitment.dropped", ref, before=before, after=_snapshot(c), workspace_id=c.workspace_id)
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
    owner = await ctx.store.get_person(c.owner_id)
    owner_tz = ctx.timezone_of(owner)
    before = _snapshot(c)
    c.due_date = max(c.due_date, local_today(ctx.now, owner_tz)) + timedelta(days=days)
    c.due_at = due_instant(c.due_date, ctx.settings.get("cadence.commitments.due_time"), owner_tz)
    schedule_reminders(c, ctx.now, ctx.settings.get("cadence.commitments.remind_before_hours"))
    ref = f"C-{c.number}"
    await ctx.log("commitment.snoozed", ref, before=before, after=_snapshot(c),
                  workspace_id=c.workspace_id)
    return Reply(f"{ref} snoozed: now due {format_instant(c.due_at, owner_tz)}: {c.what}.",
                 replace_source=ctx.command.from_button)


VERBS = [
    Verb("commit", ("commit <what> by <date> [to @person] [re <account or H-n or L-n>]",),
         "record who does what by when", (
             "commit send pricing deck to Acme by fri",
             "commit book the security review by next week re H-3",
             "commit call the CFO by dec 3 to @maria re Acme Corp",
         ), commit),
    Verb("done", ("done C-n [note]",), "mark a commitment kept", ("done C-12", "done C-12 sent with the case study"), done),
    Verb("drop", ("drop C-n <reason>",), "release a commitment openly, with a reason",
         ("drop C-12 customer paused the project",), drop),
    Verb("snooze", ("snooze C-n [days]",), "move a commitment's due date on by a day (or a few)",
         ("snooze C-12", "snooze C-12 3d"), snooze),
]
