"""What changed in the CRM comes back: the CRM is the system of record for a deal's stage, amount
and close date, so a lead won in HubSpot is won here too, a handoff moved there moves here.

Applied quietly: logged as done by the CRM (platform "hubspot"), told to nobody, no win recorded
and no celebration (a win recorded here was celebrated when it was; the CRM only corrects it).
Our own writes come back too: they change nothing, as they say what is here already. The
bot reads the CRM (bot/wiring.py, each tick) and hands the changes to `apply`.
"""
from __future__ import annotations

from datetime import UTC, datetime

from handlers.crm.ops import HANDOFF_STAGES, LEAD_STAGES
from handlers.kernel.context import JobContext
from handlers.kernel.delivery import CrmChange
from handlers.kernel.grammar import parse_ref
from handlers.kernel.settings import SettingsLike
from storage.models import Handoff, Lead
from storage.store import Store


class FromCrm(JobContext):
    """Changes made in the CRM: their log rows say which CRM, and name no person."""

    def __init__(self, store: Store, now: datetime, settings: SettingsLike, crm: str):
        super().__init__(store, now, settings)
        self.platform = crm


async def apply(store: Store, changes: list[CrmChange], now: datetime, settings: SettingsLike, crm: str) -> int:
    """Apply what differs from here, except to a record whose own write to the CRM is still owed
    (ours is newer, and the CRM will have it); how many records changed."""
    ctx, changed = FromCrm(store, now, settings, crm), 0
    owed = await store.crm_records_owed(crm)
    for change in changes:
        if (change.workspace_id, change.record) in owed:
            continue
        number = parse_ref(change.record, change.record[:1])
        if number is None:
            continue
        if change.record[:1].upper() == "L":
            lead = await store.numbered(Lead, change.workspace_id, number)
            if lead is not None and await _lead(ctx, lead, change):
                changed += 1
        elif change.record[:1].upper() == "H":
            handoff = await store.numbered(Handoff, change.workspace_id, number)
            if handoff is not None and await _handoff(ctx, handoff, change):
                changed += 1
    return changed


async def _lead(ctx: FromCrm, lead: Lead, change: CrmChange) -> bool:
    if change.stage not in LEAD_STAGES:
        return False
    status = change.stage
    amount = change.amount_cents if status == "won" else lead.amount_cents
    if (lead.status, lead.amount_cents) == (status, amount):
        return False
    before = {"status": lead.status, "amount_cents": lead.amount_cents}
    lead.status, lead.amount_cents = status, amount
    lead.closed_at = None if status == "open" else (lead.closed_at or _closed(change, ctx.now))
    await ctx.log("lead.changed_in_crm", lead.ref, before=before,
                  after={"status": status, "amount_cents": amount}, workspace_id=lead.workspace_id)
    return True


async def _handoff(ctx: FromCrm, h: Handoff, change: CrmChange) -> bool:
    stage = change.stage
    if stage not in HANDOFF_STAGES or stage == h.stage or h.declined_at is not None:
        return False
    before = {"stage": h.stage}
    h.stage, h.stage_changed_at = stage, ctx.now
    await ctx.log("handoff.changed_in_crm", h.ref, before=before, after={"stage": stage},
                  workspace_id=h.workspace_id)
    return True


def _closed(change: CrmChange, now: datetime) -> datetime:
    if change.close_date:
        return datetime.fromisoformat(change.close_date).replace(tzinfo=UTC)
    return now
