"""Salesforce: the CRM writes of handlers/crm/ops.py through `simple-salesforce` (REST API).

- `deal`: the Account of its account name (found, else created), then the Opportunity: created
  once, updated after, found again by its external id `Partnerbot_Ref__c` (a text field the
  admin adds to Opportunity, External ID, unique) when a retry follows a crash. Its owner is the
  Salesforce user with the rep's email; the other rep is an OpportunityTeamMember.
- `task`: a Task on the Opportunity (WhatId), owned by its owner's user, Completed when done.
- `note`: a Note on the Opportunity: the credit split. OpportunitySplit rows need splits turned on
  and split types set up in the org, so the split goes as a note everywhere for now.
Errors: REQUEST_LIMIT_EXCEEDED waits; an expired session, a refused request and a validation
error (a required field, a missing Partnerbot_Ref__c) park the write with Salesforce's words.
The client is synchronous (requests): each call runs in a thread.
"""
from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from adapters.crm.stages import Pipeline
from handlers.kernel.delivery import Address, CrmChange, RecordLinks, RetryAfter, Undeliverable

REF_FIELD = "Partnerbot_Ref__c"  # "<workspace id>/L-3"
# our stages → the StageName picklist of Salesforce's default sales process (and back, per kind)
HANDOFF_STAGES = {"identified": "Prospecting", "introduced": "Qualification", "positioned": "Needs Analysis",
                  "delivered": "Proposal/Price Quote", "won": "Closed Won", "lost": "Closed Lost"}
LEAD_STAGES = {"open": "Prospecting", "won": "Closed Won", "lost": "Closed Lost"}
TEAM_ROLE = "Sales Rep"
OPEN_CLOSE_DAYS = 30  # an Opportunity needs a CloseDate: an open one's is a month out


class SalesforceDeliverer:
    platform = "salesforce"

    def __init__(self, instance_url: str, access_token: str, links: RecordLinks, stages: dict[str, str] | None = None):
        self._sf = Salesforce(instance_url=instance_url, session_id=access_token)
        self._pipeline = Pipeline.of(HANDOFF_STAGES, LEAD_STAGES, stages)
        self._links = links
        self._users: dict[str, str | None] = {}  # email -> User id (None: no such active user)

    async def deliver(self, address: Address, reply) -> None:  # the outbox's chat path: never a CRM row
        raise Undeliverable("Salesforce takes CRM writes only")

    async def deliver_payload(self, address: Address, payload: dict) -> None:
        op = payload["crm"]
        try:
            if op["op"] == "deal":
                await self._opportunity(op)
            elif op["op"] == "task":
                await self._child(op, "Task", lambda opp: {
                    "Subject": op["subject"][:255], "ActivityDate": op["due"][:10], "WhatId": opp,
                    "Status": "Completed" if op["done"] else "Not Started"})
            elif op["op"] == "note":
                await self._child(op, "Note", lambda opp: {"ParentId": opp, "Title": "Partnerbot credit split",
                                                           "Body": op["body"]}, create_only=True)
            else:
                raise Undeliverable(f"unknown CRM operation {op['op']!r}")
        except SalesforceRefusedRequest as refused:
            if "REQUEST_LIMIT_EXCEEDED" in str(refused.content):
                raise RetryAfter(None) from refused
            raise Undeliverable(f"Salesforce refused it: {_message(refused)}") from refused
        except (SalesforceExpiredSession, SalesforceMalformedRequest, SalesforceResourceNotFound) as refused:
            raise Undeliverable(f"Salesforce {refused.status}: {_message(refused)}") from refused

    # --- opportunities ----------------------------------------------------------------------------
    async def _opportunity(self, op: dict) -> None:
        ref = f"{op['workspace_id']}/{op['record']}"
        stage = self._pipeline.theirs(op["record"], op["stage"])
        fields: dict[str, Any] = {"Name": op["name"][:120], "StageName": stage, REF_FIELD: ref,
                                  "CloseDate": op["close_date"] or _month_out()}
        if op["amount_cents"] is not None:
            fields["Amount"] = op["amount_cents"] / 100
        owner = await self._user(op["owner_email"])
        if owner:
            fields["OwnerId"] = owner
        opp = await self._links.get(op["workspace_id"], op["record"]) or await self._one(
            format_soql("SELECT Id FROM Opportunity WHERE Partnerbot_Ref__c = {} LIMIT 1", ref))
        if opp is not None:
            await self._call(self._sf.Opportunity.update, opp, fields)
        else:
            fields["AccountId"] = await self._account(op["company"])
            opp = (await self._call(self._sf.Opportunity.create, fields))["id"]
        await self._links.put(op["workspace_id"], op["record"], opp)
        member = "SELECT Id FROM OpportunityTeamMember WHERE OpportunityId = {} AND UserId = {} LIMIT 1"
        for email in op["collaborator_emails"]:
            user = await self._user(email)
            if user and not await self._one(format_soql(member, opp, user)):
                await self._call(self._sf.OpportunityTeamMember.create,
                                 {"OpportunityId": opp, "UserId": user, "TeamMemberRole": TEAM_ROLE})

    async def _account(self, name: str) -> str:
        found = await self._one(format_soql("SELECT Id FROM Account WHERE Name = {} LIMIT 1", name))
        if found is not None:
            return found
        return (await self._call(self._sf.Account.create, {"Name": name[:255]}))["id"]

    # --- tasks and notes --------------------------------------------------------------------------
    async def _child(self, op: dict, kind: str, fields, *, create_only: bool = False) -> None:
        opp = await self._links.get(op["workspace_id"], op["deal_record"])
        if opp is None:
            raise Undeliverable(f"{op['deal_record']} is not in Salesforce: its own write was refused")
        values = fields(opp)
        owner = await self._user(op.get("owner_email"))
        if owner and kind == "Task":
            values["OwnerId"] = owner
        existing = await self._links.get(op["workspace_id"], op["record"])
        if existing is not None:
            if not create_only:
                await self._call(getattr(self._sf, kind).update, existing, values)
            return
        made = await self._call(getattr(self._sf, kind).create, values)
        await self._links.put(op["workspace_id"], op["record"], made["id"])

    # --- what changed there -----------------------------------------------------------------------
    async def changes_since(self, since: datetime | None) -> list[CrmChange]:
        """The Opportunities written from our records modified after `since`, oldest first."""
        soql = "SELECT Partnerbot_Ref__c, StageName, Amount, CloseDate, SystemModstamp FROM Opportunity " \
               "WHERE Partnerbot_Ref__c != null"
        if since is not None:
            soql += f" AND SystemModstamp > {since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        found = await self._call(self._sf.query_all, soql + " ORDER BY SystemModstamp")
        return [change for row in found["records"]
                if (change := _change(row, self._pipeline)) is not None]

    # --- lookups ----------------------------------------------------------------------------------
    async def _user(self, email: str | None) -> str | None:
        if not email:
            return None
        if email not in self._users:
            self._users[email] = await self._one(format_soql(
                "SELECT Id FROM User WHERE Email = {} AND IsActive = true LIMIT 1", email))
        return self._users[email]

    async def _one(self, soql: str) -> str | None:
        found = await self._call(self._sf.query, soql)
        return found["records"][0]["Id"] if found["records"] else None

    @staticmethod
    async def _call(method, *args) -> Any:
        return await asyncio.to_thread(method, *args)


def _change(row: dict, pipeline: Pipeline) -> CrmChange | None:
    workspace, _, record = (row.get(REF_FIELD) or "").partition("/")
    if not workspace.isdigit() or not record:
        return None
    ours = pipeline.ours(record, row.get("StageName") or "")
    amount = row.get("Amount")
    modified = datetime.fromisoformat(row["SystemModstamp"].replace("Z", "+00:00").replace("+0000", "+00:00"))
    return CrmChange(int(workspace), record, ours, round(float(amount) * 100) if amount is not None else None,
                     (row.get("CloseDate") or "")[:10] or None, modified)


def _month_out() -> str:
    return (date.today() + timedelta(days=OPEN_CLOSE_DAYS)).isoformat()


def _message(error: SalesforceError) -> str:
    """Salesforce's own words: the first error's code and message."""
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode', '')}: {content[0].get('message', '')}"[:400]
    return str(content)[:400]
