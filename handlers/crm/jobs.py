"""The tick turns the activity log into CRM writes: every change of a lead, a handoff, a
commitment on one of them or a win, since the last tick, becomes an outbox row (platform: the
CRM) carrying the record's whole state as it is now; the outbox sender writes them in order, one
workspace's after another, with its retries and backoff. Nothing of it is on a command's path.

Why from the log: every change is logged in the transaction that makes it, so no change can be
missed and no capability has to know the CRM exists. A cursor (crm_cursor) says how far the log
has gone out; two ticks at once owe the same rows (the outbox keys them by record and log row).
"""
from __future__ import annotations

from handlers.crm import ops
from handlers.kernel.context import JobContext
from handlers.kernel.grammar import parse_ref
from handlers.kernel.registry import Job
from storage.models import Commitment, Handoff, Lead, Workspace

KINDS = ("lead", "handoff", "commitment", "win")
CHANNEL = "crm"  # one conversation per workspace: its writes leave in the order they were owed
_MODELS = {"L": Lead, "H": Handoff, "C": Commitment}


async def _due(cad: JobContext, after) -> list:
    if cad.settings.crm_provider is None:
        return []
    return await cad.store.crm_log_after(cad.settings.crm_provider, KINDS, after)


async def _owe_page(cad: JobContext, log_ids: list[int]) -> tuple[int, list]:
    crm, store = cad.settings.crm_provider, cad.store
    rows = await store.log_rows(log_ids)
    latest: dict[tuple[int, str], tuple[int, set[str]]] = {}  # (workspace, record) -> (last log id, actions)
    for row in rows:
        last, actions = latest.get((row.workspace_id, row.record), (0, set()))
        latest[(row.workspace_id, row.record)] = (max(last, row.id), actions | {row.action})
    owed, served = 0, {}
    for (workspace_id, record), (log_id, actions) in latest.items():
        if workspace_id not in served:
            served[workspace_id] = ops.goes_out(cad.settings, await store.get(Workspace, workspace_id))
        if not served[workspace_id]:
            continue
        for op in await _ops(cad, workspace_id, record, actions):
            owed += await store.enqueue(workspace_id=workspace_id, key=f"crm.{op['op']}:{workspace_id}/{op['record']}:"
                                        f"{log_id}", platform=crm, payload={"crm": op}, now=cad.now, channel=CHANNEL)
    if log_ids:
        await store.advance_crm_cursor(crm, max(log_ids), cad.now)
    return owed, []


async def _owe_one(cad: JobContext, log_id: int) -> bool:
    return (await _owe_page(cad, [log_id]))[0] > 0


async def _ops(cad: JobContext, workspace_id: int, record: str, actions: set[str]) -> list[dict]:
    """The CRM writes that make `record` as it is now (none for what the CRM does not hold)."""
    kind, number = record[:1].upper(), parse_ref(record, record[:1])
    model = _MODELS.get(kind)
    if model is None or number is None:
        return []
    store = cad.store
    found = await store.numbered(model, workspace_id, number)
    if found is None:
        return []
    if isinstance(found, Commitment):
        parent = (await store.get(Lead, found.lead_id) if found.lead_id else
                  await store.get(Handoff, found.handoff_id) if found.handoff_id else None)
        if parent is None:
            return []  # a commitment of one's own, a sync pledge, an action item: not the CRM's
        return [ops.task(workspace_id, found, parent.ref, await store.emails_of([found.owner_id]))]
    win = await store.win_of(workspace_id, record)
    if isinstance(found, Lead):
        emails = await store.emails_of([found.owner_id, found.created_by_id])
        written = [ops.lead_deal(workspace_id, found, emails)]
    else:
        emails = await store.emails_of([found.from_id, found.to_id])
        written = [ops.handoff_deal(workspace_id, found, emails, win.amount_cents if win else None)]
    if win is not None and "win.recorded" in actions:
        credits = await store.credits_of(win.id)
        credited = {c.person_id for c in credits}
        written.append(ops.credit_split(workspace_id, win, credits, await store.people(credited),
                                        await store.emails_of(list(credited)), written[0]["owner_email"]))
    return written


JOBS = [Job("CRM writes owed", find=_due, run=_owe_one, run_page=_owe_page)]
