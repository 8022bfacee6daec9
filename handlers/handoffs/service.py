"""Handoffs (H-n): a customer need handed from one rep to a partner rep, moving along stages."""
from __future__ import annotations

from handlers.kernel.context import Context
from storage.models import Handoff

STAGES = ("identified", "positioned", "introduced", "delivered", "won", "lost")
CLOSED = ("won", "lost")
OPEN_STAGES = tuple(s for s in STAGES if s not in CLOSED)
WITHDRAWN = "withdrawn"  # taken back by its sender before it was accepted: neither open nor won or lost


def snapshot(h: Handoff) -> dict:
    """What the activity log keeps of a handoff before and after a change."""
    return {"stage": h.stage, "accepted": h.accepted_at is not None, "declined": h.declined_at is not None,
            "account": h.account, "need": h.need}


async def set_stage(ctx: Context, h: Handoff, stage: str, note: str | None) -> None:
    before = snapshot(h)
    h.stage, h.stage_changed_at = stage, ctx.now
    await ctx.log("handoff.stage", h.ref, before=before, after={**snapshot(h), "note": note})


async def withdraw(ctx: Context, h: Handoff, reason: str) -> None:
    """Its sender takes it back before acceptance; logged with the reason."""
    before = snapshot(h)
    h.stage, h.stage_changed_at = WITHDRAWN, ctx.now
    await ctx.log("handoff.withdrawn", h.ref, before=before, after={**snapshot(h), "reason": reason})
