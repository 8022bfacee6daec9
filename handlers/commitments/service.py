"""The life of a commitment (C-n), whatever made it: `commit`, a peer-sync pledge, a meeting's
action item or a lead's next activity are all created, kept, dropped, snoozed and reminded
here, and logged the same way.

A commitment carries its next reminder step (`cadence_step`: "reminder", then "overdue") and
when it is due (`cadence_at`), so the tick finds due work with one indexed query (jobs.py);
closing a commitment clears them.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.commitments.messages import assigned
from handlers.kernel.context import Context
from handlers.kernel.dates import due_instant, format_instant, local_today
from storage.models import Commitment, Person, new_row


def snapshot(c: Commitment) -> dict:
    """What the activity log keeps of a commitment before and after a change."""
    return {"status": c.status, "what": c.what, "due_date": c.due_date.isoformat(),
            "owner_id": c.owner_id, "note": c.close_note}


def first_step(due_at: datetime, now: datetime, remind_before_hours: float) -> dict:
    """The first step still ahead, as the commitment's fields: a reminder, or straight the
    overdue notice when the reminder time has passed already (a commitment due in a few hours
    needs no reminder)."""
    remind_at = due_at - timedelta(hours=remind_before_hours)
    if remind_at > now:
        return {"cadence_at": remind_at, "cadence_step": "reminder"}
    return {"cadence_at": due_at, "cadence_step": "overdue"}


def schedule_reminders(c: Commitment, now: datetime, remind_before_hours: float) -> None:
    """Set the first step still ahead (first_step)."""
    step = first_step(c.due_at, now, remind_before_hours)
    c.cadence_at, c.cadence_step = step["cadence_at"], step["cadence_step"]


def stop_reminders(c: Commitment) -> None:
    c.cadence_at = c.cadence_step = None


async def create(ctx: Context, owner: Person, what: str, *, due_date: date | None = None,
                 due_at: datetime | None = None, workspace_id: int | None = None, logged: dict | None = None,
                 last_write: bool = False, **links) -> Commitment:
    """Save C-n for `owner`, with its reminders, logged; `owner` is told when someone else gave
    it to them. It is due at the configured time of `due_date` on the owner's clock, or at
    `due_at` (a pledge is due at the next sync). `links` are the Commitment's link fields
    (account, handoff_id, meeting_id, lead_id, peer_sync_id). It is numbered in `workspace_id`,
    the caller's by default: a meeting's or a lead's own when it belongs to one, so that its C-n
    reads the same in the Slack and the Teams channel of a partnership. `logged`: what the log
    says of it, when not its snapshot (a pledge says which sync it is of). `last_write`: the caller
    writes nothing after this (`commit`): a commitment for the caller is then saved in the
    statement that claims the command (Store.insert_numbered)."""
    owner_tz = ctx.timezone_of(owner)
    commitments = ctx.settings.cadence.commitments
    if due_at is None:
        due_at = due_instant(due_date, commitments.due_time, owner_tz)
    else:
        due_date = due_at.astimezone(ZoneInfo(owner_tz)).date()
    workspace_id = workspace_id or ctx.workspace.id
    # its first step set as it is made: each field set later costs SQLModel's change tracking
    c = new_row(Commitment, workspace_id=workspace_id, owner_id=owner.id, created_by_id=ctx.caller.id, what=what,
                due_date=due_date, due_at=due_at, created_at=ctx.now, **links,
                **first_step(due_at, ctx.now, commitments.remind_before_hours))
    # numbered (C-n), written and logged at once: see Store.insert_numbered
    told = owner.id != ctx.caller.id  # their notice is a write after it
    await ctx.store.insert_numbered(c, ctx.log_row("commitment.created", after=logged or snapshot(c),
                                                   workspace_id=c.workspace_id), last=last_write and not told)
    if told:
        await ctx.notify(owner, "commitment.assigned", c.ref,
                         assigned(c, ctx.caller, format_instant(c.due_at, owner_tz)))
    return c


async def keep(ctx: Context, c: Commitment, note: str | None) -> None:
    """Done: kept on time, or late."""
    await _close(ctx, c, "done", note, "commitment.done")


async def drop(ctx: Context, c: Commitment, reason: str) -> None:
    """Released openly, with a reason."""
    await _close(ctx, c, "dropped", reason, "commitment.dropped")


async def reopen(ctx: Context, c: Commitment) -> None:
    """A mistaken `done` or `drop` undone: open again, its reminders scheduled as for a new one
    (an overdue notice already sent for this due time is not sent again: jobs.py claims it)."""
    before = snapshot(c)
    c.status, c.closed_at, c.close_note = "open", None, None
    schedule_reminders(c, ctx.now, ctx.settings.cadence.commitments.remind_before_hours)
    await ctx.log("commitment.reopened", c.ref, before=before, after=snapshot(c), workspace_id=c.workspace_id)


async def _close(ctx: Context, c: Commitment, status: str, note: str | None, action: str) -> None:
    before = snapshot(c)
    c.status, c.closed_at, c.close_note = status, ctx.now, note
    stop_reminders(c)
    await ctx.log(action, c.ref, before=before, after=snapshot(c), workspace_id=c.workspace_id)


async def snooze(ctx: Context, c: Commitment, owner: Person, days: int) -> str:
    """Due `days` later (counted from today when it is overdue); its reminders follow. Returns
    the new due instant as the owner's clock shows it."""
    owner_tz = ctx.timezone_of(owner)
    commitments = ctx.settings.cadence.commitments
    before = snapshot(c)
    c.due_date = max(c.due_date, local_today(ctx.now, owner_tz)) + timedelta(days=days)
    c.due_at = due_instant(c.due_date, commitments.due_time, owner_tz)
    schedule_reminders(c, ctx.now, commitments.remind_before_hours)
    await ctx.log("commitment.snoozed", c.ref, before=before, after=snapshot(c), workspace_id=c.workspace_id)
    return format_instant(c.due_at, owner_tz)


def saved_text(ctx: Context, c: Commitment, owner: Person) -> str:
    """What the caller is told of a commitment they just made (for themselves or someone)."""
    due_text = format_instant(c.due_at, ctx.timezone_of(owner))
    if owner.id != ctx.caller.id:
        return f"{c.ref} saved for {owner.display_name}: {c.what} — due {due_text}. They've been told."
    return f"{c.ref} saved: {c.what} — due {due_text}."
