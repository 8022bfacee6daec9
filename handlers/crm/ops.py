"""What goes out to the CRM: each of our records as the CRM object it becomes, as plain data the
CRM adapter (adapters/crm/) writes. Built from the record as it is now, so a write carries its
whole state and writing it twice changes nothing.

- a lead L-n → a deal on the company of its account, owned by the lead's owner;
- a handoff H-n → a deal on its account, owned by the receiving rep, the giving rep a collaborator;
- a lead's or handoff's commitment (its next activity) → a task on that deal, owned by its owner;
- a win → the deal closed won with its amount, and its credit split: the CRM's own splits
  (Salesforce OpportunitySplit, HubSpot deal splits) where the CRM has them turned on and knows
  everyone credited, else a note on the deal saying it.
A deal's stage is ours (a handoff's stage, a lead's open / won / lost; "lost" for a handoff
declined or withdrawn): each CRM adapter maps it to its own pipeline, and back.
"""
from __future__ import annotations

from datetime import datetime

from handlers.kernel.settings import SettingsLike
from handlers.wins.service import credited_amounts
from storage.models import Commitment, Handoff, Lead, Person, Win, WinCredit, Workspace

HANDOFF_STAGES = ("identified", "introduced", "positioned", "delivered", "won", "lost")
LEAD_STAGES = ("open", "won", "lost")
CLOSED = ("won", "lost")


def goes_out(settings: SettingsLike, workspace: Workspace | None) -> bool:
    """Whether a workspace's records go out to the CRM: all do, unless setting crm.workspaces
    names the ones that do (a deployment serving other companies' workspaces too)."""
    chosen = settings.crm_workspaces
    return workspace is not None and (not chosen or f"{workspace.platform}:{workspace.external_id}" in chosen)


def lead_deal(workspace_id: int, lead: Lead, emails: dict[int, str]) -> dict:
    owner, originator = emails.get(lead.owner_id), emails.get(lead.created_by_id)
    return {"op": "deal", "workspace_id": workspace_id, "record": lead.ref, "name": f"{lead.ref} {lead.idea}",
            "company": lead.account, "stage": lead.status, "amount_cents": lead.amount_cents,
            "close_date": _day(lead.closed_at), "owner_email": owner,
            "collaborator_emails": [originator] if originator and originator != owner else []}


def handoff_deal(workspace_id: int, h: Handoff, emails: dict[int, str], amount_cents: int | None) -> dict:
    # a handoff declined or withdrawn never became business
    stage = "lost" if h.declined_at is not None or h.stage not in HANDOFF_STAGES else h.stage
    closed = h.stage_changed_at if stage in CLOSED else None
    return {"op": "deal", "workspace_id": workspace_id, "record": h.ref, "name": f"{h.ref} {h.account}: {h.need}",
            "company": h.account, "stage": stage, "amount_cents": amount_cents, "close_date": _day(closed),
            "owner_email": emails.get(h.to_id),
            "collaborator_emails": [e for e in (emails.get(h.from_id),) if e and e != emails.get(h.to_id)]}


def task(workspace_id: int, c: Commitment, deal_record: str, emails: dict[int, str]) -> dict:
    return {"op": "task", "workspace_id": workspace_id, "record": c.ref, "deal_record": deal_record,
            "subject": f"{c.ref} {c.what}", "due": c.due_at.isoformat(), "done": c.status == "done",
            "owner_email": emails.get(c.owner_id)}


def credit_split(workspace_id: int, win: Win, credits: list[WinCredit], people: dict[int, Person],
                 emails: dict[int, str], owner_email: str | None) -> dict:
    """The credit split of a win: each credited person's email and percentage (two decimals,
    adding up to exactly 100), and the same as a note's text for a CRM that cannot take splits."""
    lines = sorted(credits, key=lambda c: (-c.share, c.person_id))
    parts = credited_amounts(lines, win.amount_cents)
    said = "; ".join(f"{people[c.person_id].display_name if c.person_id in people else 'someone'} "
                     f"{round(c.share * 100, 1):g}% ({c.roles.replace(',', ', ')})"
                     + (f" = {cents / 100:,.2f}" if cents is not None else "")
                     for c, cents in zip(lines, parts, strict=True))
    return {"op": "split", "workspace_id": workspace_id, "record": f"{win.record}/split-{win.id}",
            "deal_record": win.record, "owner_email": owner_email,
            "lines": [{"email": emails.get(c.person_id), "percent": percent, "roles": c.roles,
                       "name": people[c.person_id].display_name if c.person_id in people else "someone"}
                      for c, percent in zip(lines, percentages([c.share for c in lines]), strict=True)],
            "body": f"Partnerbot credit split of {win.record}: {said}."}


def percentages(shares: list[float]) -> list[float]:
    """Shares (adding up to 1) as percentages with two decimals adding up to exactly 100: the
    hundredths left over by rounding down go to the largest remainders (CRMs refuse 99.99)."""
    hundredths = [share * 10000 for share in shares]
    floors = [int(round(h, 6)) for h in hundredths]  # 0.3 * 10000 is 2999.9999…
    left = 10000 - sum(floors)
    for i in sorted(range(len(shares)), key=lambda i: (floors[i] - hundredths[i], i))[:max(left, 0)]:
        floors[i] += 1
    return [f / 100 for f in floors]


def _day(at: datetime | None) -> str | None:
    return at.date().isoformat() if at is not None else None
