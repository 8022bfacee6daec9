"""crm status: for admins, whether a CRM is connected, how far the writes have gone, the writes
it refused (parked, with the CRM's own words) and the people it cannot map to a user."""
from __future__ import annotations

from handlers.crm import ops
from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb
from handlers.partnerships import policy

NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
SHOWN = 10  # parked writes and unmapped people listed


async def crm(ctx: Context, args: str) -> Reply:
    if args.strip().lower() != "status":
        raise UserError("Say `crm status`.")
    policy.require_admin(ctx, "see the CRM's status")
    provider = ctx.settings.crm_provider
    if provider is None:
        return Reply("No CRM is connected. An operator connects HubSpot by setting HUBSPOT_ACCESS_TOKEN, or "
                     "Salesforce by setting SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN (or its integration "
                     "user's SALESFORCE_USERNAME and SALESFORCE_PASSWORD); from then on every lead, handoff, next "
                     "activity and win goes out to it. The operator guide lists the scopes and the mapping.")
    store, ws = ctx.store, ctx.workspace.id
    name = NAMES.get(provider, provider)
    if not ops.goes_out(ctx.settings, ctx.workspace):
        return Reply(f"This workspace's records do not go out to {name}: setting crm.workspaces names the "
                     "workspaces that do, and this one is not among them.")
    sent = await store.crm_writes(provider, ws, "sent", 1)
    cursor = await store.crm_cursor(provider)
    waiting = await store.crm_write_count(provider, ws, "pending")
    parked = await store.crm_writes(provider, ws, "failed", SHOWN)
    lines = [f"{name} is connected.",
             "Last write: " + (format_instant(sent[0].sent_at, ctx.tz) if sent and sent[0].sent_at else "none yet")
             + (f" · changes read up to {format_instant(cursor.updated_at, ctx.tz)}" if cursor else "")
             + f" · {waiting} waiting."]
    if parked:
        lines.append(f"Refused by {name} (fix it there: the record's next change is written again in full):")
        lines += [f"- {m.payload.get('crm', {}).get('record', '?')}: {m.last_error or 'no reason given'}"
                  for m in parked]
    else:
        lines.append("Nothing refused.")
    if cursor is not None and cursor.setup_notice:
        lines.append(cursor.setup_notice)
    unmapped = await store.partnership_people_without_email(ws)
    if unmapped:
        shown = ", ".join(p.display_name for p in unmapped[:SHOWN]) + (
            f" and {len(unmapped) - SHOWN} more" if len(unmapped) > SHOWN else "")
        lines.append(f"No email known for {shown}: their records go out owned by the app's user in {name}.")
    return Reply("\n".join(lines))


VERBS = [
    Verb("crm", ("crm status",), "the CRM's connection, its last write, and what it refused (admins)",
         ("crm status",), crm),
]
