"""One record shown with its history, from the activity log: who did what when, on the
viewer's clock. `commit C-n`, `handoff H-n` and `ask Q-n` answer with it."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.kernel.context import Context
from handlers.kernel.dates import format_day
from handlers.kernel.model import Reply
from storage.models import ActivityLog, Person

SHOWN = 20  # the newest entries of a long history

# what a log action reads as, after its capability ("commitment.done" → "done")
_SAID = {"created": "created it", "done": "marked it kept", "dropped": "dropped it", "snoozed": "snoozed it",
         "reopened": "reopened it", "accepted": "accepted it", "declined": "declined it",
         "withdrawn": "withdrew it", "answered": "answered it"}


def _entry(row: ActivityLog, people: dict[int, Person], tz: str) -> str:
    local = row.at.astimezone(ZoneInfo(tz))
    who = people[row.person_id].display_name if row.person_id in people else "Partnerbot"
    before, after = row.before or {}, row.after or {}
    what = row.action.split(".", 1)[-1]
    said = _SAID.get(what, what.replace(".", " ").replace("_", " "))
    if what == "stage" and after.get("stage"):
        said = f"moved it to {after['stage']}"
    if after.get("due_date") and before.get("due_date") and after["due_date"] != before["due_date"]:
        said += f" (due {after['due_date']})"
    for key in ("note", "reason", "answer"):
        if isinstance(after.get(key), str) and after[key]:
            said += f" — {key}: {after[key]}"
    return f"{format_day(local.date(), tz)} {local.strftime('%H:%M')} · {who} {said}"


async def show_with_history(ctx: Context, workspace_id: int, ref: str, head: str) -> Reply:
    """`head` (the record's line), then its history, newest `SHOWN` entries, oldest first."""
    rows = await ctx.store.record_history(workspace_id, ref, SHOWN + 1)
    more = len(rows) > SHOWN
    rows = rows[-SHOWN:]
    people = await ctx.store.people({r.person_id for r in rows if r.person_id is not None})
    lines = [_entry(r, people, ctx.tz) for r in rows] or ["nothing logged"]
    title = f"History ({'the last ' + str(SHOWN) + ', ' if more else ''}times in {ctx.tz}):"
    return Reply("\n".join([head, title, *lines]))
