"""Asks (Q-n): a request for help, timed to its first response.

An ask nobody has responded to carries its next follow-up step (`cadence_step`: "nudge",
then "escalate") and when it is due (`cadence_at`, counted from when it was asked), so the
tick finds due work with one indexed query (jobs.py); the first response clears them.
"""
from __future__ import annotations

from datetime import timedelta

from handlers.kernel.context import Context
from storage.models import Ask, Handoff, Lead, Partnership
from storage.store import Store


def snapshot(a: Ask) -> dict:
    """What the activity log keeps of an ask before and after a change."""
    return {"status": a.status, "request": a.request, "person_id": a.person_id,
            "due_date": a.due_date.isoformat() if a.due_date else None,
            "decline_reason": a.decline_reason, "answer": a.answer}


def schedule_follow_up(a: Ask, nudge_after_hours: float) -> None:
    a.cadence_at, a.cadence_step = a.created_at + timedelta(hours=nudge_after_hours), "nudge"


def stop_follow_up(a: Ask) -> None:
    a.cadence_at = a.cadence_step = None


async def link_text(store: Store, a: Ask) -> str | None:
    """What the ask is about: 'P-1 Acme Alliance', 'H-2 (Acme Corp)', 'L-3 (Acme)'; None when nothing."""
    if a.partnership_id:
        p = await store.get(Partnership, a.partnership_id)
        return f"{p.ref} {p.name}"
    if a.handoff_id:
        h = await store.get(Handoff, a.handoff_id)
        return f"{h.ref} ({h.account})"
    if a.lead_id:
        lead = await store.get(Lead, a.lead_id)
        return f"{lead.ref} ({lead.account})"
    return None


async def respond(ctx: Context, a: Ask, action: str, text: str) -> None:
    """The caller, who was asked, accepts, declines (`text`: the reason, if any) or answers. The
    first response of any kind is timed and stops the follow-up."""
    before = snapshot(a)
    if a.first_response_at is None:
        a.first_response_at = ctx.now
    stop_follow_up(a)
    if action == "accept":
        a.status, a.accepted_at = "accepted", ctx.now
    elif action == "decline":
        a.status, a.declined_at, a.decline_reason = "declined", ctx.now, text or None
    else:
        a.status, a.answered_at, a.answer = "answered", ctx.now, text
    await ctx.log(f"ask.{a.status}", a.ref, before=before, after=snapshot(a), workspace_id=a.workspace_id)
