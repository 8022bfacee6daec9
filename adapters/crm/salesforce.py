"""Salesforce: the CRM writes of handlers/crm/ops.py through `simple-salesforce` (REST API).

- `deal`: the Account of its account name (found, else created), then the Opportunity: created
  once, updated after, found again by its external id `Partnerbot_Ref__c` (a text field the
  admin adds to Opportunity, External ID, unique) when a retry follows a crash. Its owner is the
  Salesforce user with the rep's email; the other rep is an OpportunityTeamMember.
- `task`: a Task on the Opportunity (WhatId), owned by its owner's user, Completed when done.
- `split`: the credit split as OpportunitySplit rows of the revenue split type (each credited
  rep on the opportunity team first, as Salesforce requires), replaced whole in one composite
  request (allOrNone: revenue splits must add up to 100% when it commits). Where splits are not
  turned on in the org, or someone credited has no Salesforce user, it is a Note instead, and
  `crm status` says why.
The session: an access token as given, or a login of the integration user (SOAP login with
username, password and security token), which is also how an expired session is renewed; an
expired token with no login to renew it parks the write, saying so.
Errors: REQUEST_LIMIT_EXCEEDED waits; a refused request and a validation error (a required
field, a missing Partnerbot_Ref__c) park the write with Salesforce's own words.
The client is synchronous (requests): each call runs in a thread.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simple_salesforce import Salesforce, SalesforceLogin, format_soql
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
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
SPLITS_OFF = ("Credit splits go out as a note on each Opportunity: Opportunity Splits are not turned on in this "
              "org (Setup → Opportunity Splits, with the Revenue split type active).")


@dataclass(frozen=True)
class SalesforceAccess:
    """How to reach the org: an instance URL with an access token, or a login, or both (the
    token first, the login when it expires)."""
    instance_url: str | None = None
    access_token: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str = ""
    login_url: str = "https://login.salesforce.com"

    def session(self) -> Salesforce:
        """A client on the given token, else on a new login's session (blocking: run in a thread)."""
        if self.access_token and self.instance_url:
            return Salesforce(instance_url=self.instance_url, session_id=self.access_token)
        return self.login()

    def login(self) -> Salesforce:
        """A new session of the integration user (only with a username: settings require one
        where there is no token, and _renewing asks for one before it logs in again)."""
        try:  # scratch_url: the login endpoint (My Domain, a sandbox's test.salesforce.com)
            session_id, instance = SalesforceLogin(username=self.username, password=self.password,
                                                   security_token=self.security_token, scratch_url=self.login_url)
        except SalesforceAuthenticationFailed as refused:
            raise Undeliverable(f"Salesforce refused the login of {self.username}: "
                                f"{getattr(refused, 'auth_message', None) or refused}") from refused
        return Salesforce(instance=instance, session_id=session_id)


class SalesforceDeliverer:
    platform = "salesforce"

    def __init__(self, access: SalesforceAccess, links: RecordLinks, stages: dict[str, str] | None = None):
        self._access = access
        self._sf: Salesforce | None = None  # made on first use, made again when its session expires
        self._pipeline = Pipeline.of(HANDOFF_STAGES, LEAD_STAGES, stages)
        self._links = links
        self._users: dict[str, str | None] = {}  # email -> User id (None: no such active user)

    async def deliver(self, address: Address, reply) -> None:  # the outbox's chat path: never a CRM row
        raise Undeliverable("Salesforce takes CRM writes only")

    async def deliver_payload(self, address: Address, payload: dict) -> None:
        try:
            await self._renewing(self._write, payload["crm"])
        except SalesforceRefusedRequest as refused:
            if "REQUEST_LIMIT_EXCEEDED" in str(refused.content):
                raise RetryAfter(None) from refused
            raise Undeliverable(f"Salesforce refused it: {_message(refused)}") from refused
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as refused:
            raise Undeliverable(f"Salesforce {refused.status}: {_message(refused)}") from refused

    async def _renewing(self, work, *args):
        """`work` on the session, and once more on a new one when Salesforce says it expired."""
        if self._sf is None:
            self._sf = await asyncio.to_thread(self._access.session)
        try:
            return await work(*args)
        except SalesforceExpiredSession as expired:
            if not self._access.username:
                raise Undeliverable(f"Salesforce 401: {_message(expired)}: set a new SALESFORCE_ACCESS_TOKEN, or "
                                    "SALESFORCE_USERNAME and SALESFORCE_PASSWORD to renew it") from expired
            self._sf = await asyncio.to_thread(self._access.login)
            return await work(*args)

    async def _write(self, op: dict) -> None:
        if op["op"] == "deal":
            await self._opportunity(op)
        elif op["op"] == "task":
            await self._child(op, "Task", lambda opp: {
                "Subject": op["subject"][:255], "ActivityDate": op["due"][:10], "WhatId": opp,
                "Status": "Completed" if op["done"] else "Not Started"})
        elif op["op"] == "split":
            await self._split(op)
        elif op["op"] == "note":  # a split written before splits were (rows still owed from then)
            await self._note(op)
        else:
            raise Undeliverable(f"unknown CRM operation {op['op']!r}")

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
        for email in op["collaborator_emails"]:
            user = await self._user(email)
            if user:
                await self._team_member(opp, user)

    async def _team_member(self, opp: str, user: str) -> None:
        member = "SELECT Id FROM OpportunityTeamMember WHERE OpportunityId = {} AND UserId = {} LIMIT 1"
        if not await self._one(format_soql(member, opp, user)):
            await self._call(self._sf.OpportunityTeamMember.create,
                             {"OpportunityId": opp, "UserId": user, "TeamMemberRole": TEAM_ROLE})

    async def _account(self, name: str) -> str:
        found = await self._one(format_soql("SELECT Id FROM Account WHERE Name = {} LIMIT 1", name))
        if found is not None:
            return found
        return (await self._call(self._sf.Account.create, {"Name": name[:255]}))["id"]

    # --- the credit split -------------------------------------------------------------------------
    async def _split(self, op: dict) -> None:
        opp = await self._deal_of(op)
        users = [await self._user(line["email"]) for line in op["lines"]]
        unmapped = [line["name"] for line, user in zip(op["lines"], users, strict=True) if user is None]
        if unmapped:  # a split needs a user: the note says who, crm status lists people without an email
            await self._note(op, f" (not as splits: no Salesforce user for {', '.join(unmapped)})")
            return
        split_type = await self._revenue_split_type()
        if split_type is None:
            await self._links.tell_admins(SPLITS_OFF)
            await self._note(op)
            return
        await self._links.tell_admins(None)
        owner = await self._user(op["owner_email"])
        for user in users:
            if user != owner:  # the owner may hold a split as owner; anyone else must be on the team
                await self._team_member(opp, user)
        existing = await self._call(self._sf.query, format_soql(
            "SELECT Id, SplitOwnerId FROM OpportunitySplit WHERE OpportunityId = {} AND SplitTypeId = {}",
            opp, split_type))
        held = {row["SplitOwnerId"]: row["Id"] for row in existing["records"]}  # owner -> their split
        base = f"/services/data/v{self._sf.sf_version}/sobjects/OpportunitySplit/"
        requests = []
        for n, (line, user) in enumerate(zip(op["lines"], users, strict=True)):
            if user in held:
                requests.append({"method": "PATCH", "url": base + held.pop(user), "referenceId": f"keep{n}",
                                 "body": {"SplitPercentage": line["percent"]}})
            else:
                requests.append({"method": "POST", "url": base, "referenceId": f"add{n}", "body": {
                    "OpportunityId": opp, "SplitOwnerId": user, "SplitTypeId": split_type,
                    "SplitPercentage": line["percent"], "SplitNote": line["roles"].replace(",", ", ")}})
        requests += [{"method": "DELETE", "url": base + split_id, "referenceId": f"drop{n}"}
                     for n, split_id in enumerate(held.values())]  # splits of nobody credited
        answer = await self._call(self._sf.restful, "composite", None, "POST",
                                  data=json.dumps({"allOrNone": True, "compositeRequest": requests}))
        failed = [r for r in answer["compositeResponse"] if r["httpStatusCode"] >= 300
                  and "PROCESSING_HALTED" not in json.dumps(r["body"])]
        if failed:
            raise Undeliverable(f"Salesforce refused the split: {_message_of(failed[0]['body'])}")

    async def _revenue_split_type(self) -> str | None:
        """The org's active split type on Amount (Revenue); None where splits are not turned on
        (Salesforce then does not know the OpportunitySplitType object at all)."""
        try:
            return await self._one("SELECT Id FROM OpportunitySplitType WHERE IsActive = true AND "
                                   "SplitField = 'Amount' LIMIT 1")
        except SalesforceMalformedRequest as refused:
            if "INVALID_TYPE" in str(refused.content):
                return None
            raise

    async def _note(self, op: dict, why: str = "") -> None:
        await self._child(op, "Note", lambda opp: {"ParentId": opp, "Title": "Partnerbot credit split",
                                                   "Body": op["body"] + why}, create_only=True)

    # --- tasks and notes --------------------------------------------------------------------------
    async def _deal_of(self, op: dict) -> str:
        opp = await self._links.get(op["workspace_id"], op["deal_record"])
        if opp is None:  # written in order: its Opportunity's own write was refused
            raise Undeliverable(f"{op['deal_record']} is not in Salesforce: its own write was refused")
        return opp

    async def _child(self, op: dict, kind: str, fields, *, create_only: bool = False) -> None:
        opp = await self._deal_of(op)
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
        return await self._renewing(self._changes_since, since)

    async def _changes_since(self, since: datetime | None) -> list[CrmChange]:
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
    async def _call(method, *args, **kwargs) -> Any:
        return await asyncio.to_thread(method, *args, **kwargs)


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
    return _message_of(error.content)


def _message_of(content: Any) -> str:
    """Salesforce's own words: the first error's code and message."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode', '')}: {content[0].get('message', '')}"[:400]
    return str(content)[:400]
