"""HubSpot: the CRM writes of handlers/crm/ops.py through `hubspot-api-client` (CRM v3 objects).

One outbox row is one operation carrying the record's whole state:
- `deal`: the company of its account (found by name, else created), then the deal: created once,
  updated after. Its HubSpot id is kept (RecordLinks); a retry after a crash finds the deal by its
  `partnerbot_ref` property (made on first use) before it would create a second.
- `task`: a task on the deal of its lead or handoff, owned by the mapped user.
- `split`: the credit split as the deal's splits (the deal splits API, Sales Hub Enterprise, not
  in the client: sent through its `api_request`), replacing any it had; where the portal has no
  deal splits (403/404), or someone credited has no HubSpot user, or the deal's owner is not
  credited (HubSpot requires them among the splits), a note on the deal, and `crm status` says so.
People map to HubSpot users (owners) by email; someone without one is left to the app's user.

What HubSpot answers becomes what the outbox sender knows: 429 waits (Retry-After, else its
backoff) without counting as a failure; 401/403 and a validation error (400, 409 on a create,
422) park the row with HubSpot's own message, which `crm status` shows; anything else is retried.
The client is synchronous (urllib3): each call runs in a thread.
"""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from hubspot import HubSpot
from hubspot.crm.objects import (
    AssociationSpec,
    Filter,
    FilterGroup,
    PublicAssociationsForObject,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.models.public_object_id import PublicObjectId
from hubspot.crm.properties import PropertyCreate

from adapters.crm.stages import Pipeline
from handlers.kernel.delivery import Address, CrmChange, RecordLinks, RetryAfter, Undeliverable

REF_PROPERTY = "partnerbot_ref"  # "<workspace id>/L-3": what a retried write finds its deal by
# our stages → the stage ids of HubSpot's default sales pipeline (and back, per kind of record)
HANDOFF_STAGES = {"identified": "appointmentscheduled", "introduced": "qualifiedtobuy",
                  "positioned": "presentationscheduled", "delivered": "contractsent",
                  "won": "closedwon", "lost": "closedlost"}
LEAD_STAGES = {"open": "appointmentscheduled", "won": "closedwon", "lost": "closedlost"}
# HubSpot-defined association types (v4): deal → company, task → deal, note → deal
DEAL_TO_COMPANY, TASK_TO_DEAL, NOTE_TO_DEAL = 5, 216, 214
_PARKED = {400, 401, 403, 404, 409, 422}
SPLITS_PATH = "/crm/v3/objects/deals/splits/batch/upsert"  # replaces a deal's splits whole
SPLITS_OFF = ("Credit splits go out as a note on each deal: this HubSpot portal has no deal splits (Sales Hub "
              "Enterprise, deal splits turned on, and the crm.dealsplits.read_write scope)")


class HubSpotDeliverer:
    platform = "hubspot"

    def __init__(self, access_token: str, api_url: str, links: RecordLinks, stages: dict[str, str] | None = None):
        self._client = HubSpot(access_token=access_token, host=api_url)
        self._api_url = api_url
        self._pipeline = Pipeline.of(HANDOFF_STAGES, LEAD_STAGES, stages)
        self._links = links
        self._owners: dict[str, str | None] = {}  # email -> owner id (None: no such user)
        self._property_made = False

    async def deliver(self, address: Address, reply) -> None:  # the outbox's chat path: never a CRM row
        raise Undeliverable("HubSpot takes CRM writes only")

    async def deliver_payload(self, address: Address, payload: dict) -> None:
        op = payload["crm"]
        try:
            if op["op"] == "deal":
                await self._deal(op)
            elif op["op"] == "task":
                await self._child(op, "tasks", TASK_TO_DEAL, {
                    "hs_task_subject": op["subject"], "hs_timestamp": op["due"],
                    "hs_task_status": "COMPLETED" if op["done"] else "NOT_STARTED"})
            elif op["op"] == "split":
                await self._split(op)
            elif op["op"] == "note":  # a split written before splits were (rows still owed from then)
                await self._note(op)
            else:
                raise Undeliverable(f"unknown CRM operation {op['op']!r}")
        except Exception as error:  # the client's ApiException, one class per API package
            status = getattr(error, "status", None)
            if status is None or isinstance(error, (Undeliverable, RetryAfter)):
                raise
            if status == 429:
                raise RetryAfter(_retry_after(error)) from error
            if status in _PARKED:
                raise Undeliverable(f"HubSpot {status}: {_message(error)}") from error
            raise

    # --- deals ----------------------------------------------------------------------------------
    async def _deal(self, op: dict) -> None:
        ref = f"{op['workspace_id']}/{op['record']}"
        stage = self._pipeline.theirs(op["record"], op["stage"])
        properties = {"dealname": op["name"], "dealstage": stage, "pipeline": "default", REF_PROPERTY: ref}
        if op["amount_cents"] is not None:
            properties["amount"] = f"{op['amount_cents'] / 100:.2f}"
        if op["close_date"]:
            properties["closedate"] = op["close_date"]
        owner = await self._owner(op["owner_email"])
        if owner:
            properties["hubspot_owner_id"] = owner
        collaborators = [o for o in [await self._owner(e) for e in op["collaborator_emails"]] if o]
        if collaborators:
            properties["hs_all_collaborator_owner_ids"] = ";".join(collaborators)
        deal_id = await self._links.get(op["workspace_id"], op["record"]) or await self._find_deal(ref)
        if deal_id is not None:
            await self._call(self._client.crm.objects.basic_api.update, "deals", deal_id,
                             SimplePublicObjectInput(properties=properties))
        else:
            company = await self._company(op["company"])
            made = await self._call(self._client.crm.objects.basic_api.create, "deals",
                                    SimplePublicObjectInputForCreate(properties=properties,
                                                                     associations=[_to(company, DEAL_TO_COMPANY)]))
            deal_id = made.id
        await self._links.put(op["workspace_id"], op["record"], deal_id)

    async def _find_deal(self, ref: str) -> str | None:
        await self._ref_property()
        return await self._search("deals", REF_PROPERTY, ref)

    async def _company(self, name: str) -> str:
        found = await self._search("companies", "name", name)
        if found is not None:
            return found
        made = await self._call(self._client.crm.objects.basic_api.create, "companies",
                                SimplePublicObjectInputForCreate(properties={"name": name}))
        return made.id

    async def _ref_property(self) -> None:
        """The deal property a retry finds its deal by: made once per portal (409: it exists)."""
        if self._property_made:
            return
        try:
            await self._call(self._client.crm.properties.core_api.create, "deals", PropertyCreate(
                name=REF_PROPERTY, label="Partnerbot reference", type="string", field_type="text",
                group_name="dealinformation", has_unique_value=True))
        except Exception as error:
            if getattr(error, "status", None) != 409:
                raise
        self._property_made = True

    # --- what changed there (handlers/crm/reconcile.py) -------------------------------------------
    async def changes_since(self, since: datetime | None) -> list[CrmChange]:
        """The deals written from our records and modified after `since` (all of them: None),
        oldest change first, a page of 100 at a time."""
        filters = [Filter(property_name=REF_PROPERTY, operator="HAS_PROPERTY")]
        if since is not None:
            filters.append(Filter(property_name="hs_lastmodifieddate", operator="GT",
                                  value=str(int(since.timestamp() * 1000))))
        changes, after = [], None
        while True:
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=filters)], limit=100, after=after,
                sorts=["hs_lastmodifieddate"],
                properties=[REF_PROPERTY, "dealstage", "amount", "closedate", "hs_lastmodifieddate"])
            found = await self._call(self._client.crm.objects.search_api.do_search, "deals", request)
            changes += [change for deal in found.results
                        if (change := _change(deal.properties, self._pipeline)) is not None]
            after = found.paging.next.after if found.paging and found.paging.next else None
            if after is None:
                return changes

    # --- the credit split -------------------------------------------------------------------------
    async def _split(self, op: dict) -> None:
        deal_id = await self._deal_of(op)
        owners = [await self._owner(line["email"]) for line in op["lines"]]
        unmapped = [line["name"] for line, owner in zip(op["lines"], owners, strict=True) if owner is None]
        if unmapped:
            await self._note(op, f" (not as deal splits: no HubSpot user for {', '.join(unmapped)})")
            return
        if await self._owner(op["owner_email"]) not in owners:
            await self._note(op, " (not as deal splits: HubSpot needs the deal's owner among them)")
            return
        body = {"inputs": [{"id": deal_id, "splits": [
            {"ownerId": int(owner) if owner.isdigit() else owner, "percentage": round(line["percent"] / 100, 4)}
            for line, owner in zip(op["lines"], owners, strict=True)]}]}
        answer = await self._call(self._client.api_request, {"method": "POST", "path": SPLITS_PATH, "body": body,
                                                                  "base_url": self._api_url})
        if answer.status_code in (403, 404):  # no Sales Hub Enterprise, splits off, or no scope for them
            await self._links.tell_admins(SPLITS_OFF + f" (HubSpot said {answer.status_code}: {_said(answer.text)})")
            await self._note(op)
            return
        if answer.status_code == 429:
            raise RetryAfter(_seconds(answer.headers.get("Retry-After")))
        if answer.status_code >= 400:
            status = answer.status_code
            error = Undeliverable(f"HubSpot {status}: {_said(answer.text)}")
            if status in _PARKED:
                raise error
            raise RuntimeError(str(error))  # a 5xx: retried
        await self._links.tell_admins(None)

    async def _note(self, op: dict, why: str = "") -> None:
        await self._child(op, "notes", NOTE_TO_DEAL, {"hs_note_body": op["body"] + why}, create_only=True)

    # --- tasks and notes, on the deal of their lead or handoff -----------------------------------
    async def _deal_of(self, op: dict) -> str:
        deal_id = await self._links.get(op["workspace_id"], op["deal_record"])
        if deal_id is None:  # written in order: its deal's write was refused
            raise Undeliverable(f"{op['deal_record']} is not in HubSpot: its own write was refused")
        return deal_id

    async def _child(self, op: dict, kind: str, association: int, properties: dict, *, create_only: bool = False):
        deal_id = await self._deal_of(op)
        owner = await self._owner(op.get("owner_email"))
        if owner:
            properties["hubspot_owner_id"] = owner
        existing = await self._links.get(op["workspace_id"], op["record"])
        if existing is not None:
            if not create_only:
                await self._call(self._client.crm.objects.basic_api.update, kind, existing,
                                 SimplePublicObjectInput(properties=properties))
            return
        made = await self._call(self._client.crm.objects.basic_api.create, kind, SimplePublicObjectInputForCreate(
            properties=properties, associations=[_to(deal_id, association)]))
        await self._links.put(op["workspace_id"], op["record"], made.id)

    # --- lookups ----------------------------------------------------------------------------------
    async def _owner(self, email: str | None) -> str | None:
        if not email:
            return None
        if email not in self._owners:
            page = await self._call(self._client.crm.owners.owners_api.get_page, email=email, limit=1)
            self._owners[email] = page.results[0].id if page.results else None
        return self._owners[email]

    async def _search(self, kind: str, prop: str, value: str) -> str | None:
        request = PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[
            Filter(property_name=prop, operator="EQ", value=value)])], limit=1, properties=[prop])
        found = await self._call(self._client.crm.objects.search_api.do_search, kind, request)
        return found.results[0].id if found.results else None

    @staticmethod
    async def _call(method, *args, **kwargs) -> Any:
        return await asyncio.to_thread(method, *args, **kwargs)


def _to(object_id: str, type_id: int) -> PublicAssociationsForObject:
    return PublicAssociationsForObject(to=PublicObjectId(id=object_id), types=[
        AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)])


def _change(properties: dict, pipeline: Pipeline) -> CrmChange | None:
    """A deal's properties as a change of the record it was written from (None: not one of ours)."""
    workspace, _, record = (properties.get(REF_PROPERTY) or "").partition("/")
    if not workspace.isdigit() or not record:
        return None
    amount = properties.get("amount")
    modified = properties.get("hs_lastmodifieddate") or "0"
    at = (datetime.fromtimestamp(int(modified) / 1000, UTC) if modified.isdigit()
          else datetime.fromisoformat(modified.replace("Z", "+00:00")))
    return CrmChange(int(workspace), record, pipeline.ours(record, properties.get("dealstage") or ""),
                     round(float(amount) * 100) if amount not in (None, "") else None,
                     (properties.get("closedate") or "")[:10] or None, at)


def _retry_after(error: Any) -> float | None:
    return _seconds((getattr(error, "headers", None) or {}).get("Retry-After"))


def _seconds(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _said(body: str) -> str:
    """The message of HubSpot's JSON error body, else the body itself."""
    try:
        return str(json.loads(body).get("message") or body)[:400]
    except (ValueError, AttributeError):
        return body[:400]


def _message(error: Any) -> str:
    """HubSpot's own words about what it refused (its JSON body's message)."""
    return _said(getattr(error, "body", None) or str(error))
