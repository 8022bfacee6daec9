"""The same writes to Salesforce: real signed Slack requests in, the tick turning the log into
outbox rows, the sender writing them through simple-salesforce to a fake Salesforce REST API over
HTTPS (a throwaway certificate authority the test trusts) that records every call: Account and
Opportunity with its owner and team member, a Task, the split as a Note, stages as they move, a
retry that finds its Opportunity, REQUEST_LIMIT_EXCEEDED waiting, a validation error parked and
shown by `crm status`, a change made in Salesforce coming back."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from bot.config import ConfigError, load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from storage.models import CrmLink, Handoff, Lead, OutboxMessage
from tests.conftest import FixedClock
from tests.crm.test_hubspot import Crm
from tests.fakes.salesforce_api import API, FakeSalesforce
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET
from tests.helpers import rows
from tests.reports.test_export import loopback

TOKEN = "00Dxx0000001gPL!AQ4AQ.test"


@asynccontextmanager
async def https(app: web.Application, context):
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def crm(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    slack = await FakeSlackApi(timezones={"U1": "Europe/Berlin", "U2": "Europe/Berlin"}).start()
    slack.emails.update({"U1": "ana@acme.example", "U2": "dana@globex.example"})
    slack.admins.add("U1")
    salesforce = FakeSalesforce(TOKEN, users={"ana@acme.example": "005ANA", "dana@globex.example": "005DANA"})
    salesforce.authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))  # requests trusts the fake's authority
    async with https(salesforce.app(), salesforce.ssl_context()) as salesforce_url:
        clock = FixedClock()
        bot = Partnerbot(load_settings({
            "DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.url, "SALESFORCE_INSTANCE_URL": salesforce_url,
            "SALESFORCE_ACCESS_TOKEN": TOKEN}), clock)
        await bot.upgrade()
        try:
            async with loopback(build_web_app(bot)) as url, aiohttp.ClientSession() as http:
                yield Crm(bot, clock, url, slack, salesforce, http, platform="salesforce")
        finally:
            await slack.stop()


async def test_a_lead_its_activity_and_its_win_are_an_opportunity_task_and_note(crm):
    sf = crm.fake
    await crm.slash("list", user="U2")
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on owner <@U2|dana>")
    await crm.sync()
    [account], [opp] = sf.made("Account"), sf.made("Opportunity")
    assert account["Name"] == "Acme Corp"
    assert (opp["Name"], opp["StageName"], opp["OwnerId"], opp["AccountId"], opp["Partnerbot_Ref__c"]) == \
        ("L-1 cross-sell the analytics add-on", "Prospecting", "005DANA", account["Id"], "1/L-1")
    [member] = sf.made("OpportunityTeamMember")
    assert (member["OpportunityId"], member["UserId"], member["TeamMemberRole"]) == (opp["Id"], "005ANA", "Sales Rep")

    await crm.slash("lead L-1 next demo with their CTO by fri", user="U2")
    await crm.sync()
    [task] = sf.made("Task")
    assert (task["WhatId"], task["OwnerId"], task["Status"]) == (opp["Id"], "005DANA", "Not Started")
    assert task["Subject"].endswith("demo with their CTO")

    await crm.slash("win L-1 120k", user="U2")
    await crm.sync()
    [opp] = sf.made("Opportunity")
    assert (opp["StageName"], opp["Amount"]) == ("Closed Won", 120000.0)
    [note] = sf.made("Note")
    assert note["ParentId"] == opp["Id"] and note["Body"].startswith("Partnerbot credit split of L-1: ")
    assert [w for w in sf.writes() if w == ("POST", f"{API}/sobjects/Opportunity/")] == [
        ("POST", f"{API}/sobjects/Opportunity/")]


async def test_a_handoff_moves_through_the_stages_and_a_retry_finds_its_opportunity(crm):
    sf = crm.fake
    await crm.slash("list", user="U2")
    sf.fail_next("POST", f"{API}/sobjects/Opportunity/", 500, "UNKNOWN_EXCEPTION", "try again", after_effect=True)
    await crm.slash("handoff <@U2|dana> Globex: needs a security review")
    await crm.sync()  # Salesforce made it, its answer was lost
    assert len(sf.made("Opportunity")) == 1 and not await rows(crm.bot.db, CrmLink)
    crm.clock.now += timedelta(minutes=10)
    await crm.sync()
    [opp] = sf.made("Opportunity")
    assert [(link.record, link.crm_id) for link in await rows(crm.bot.db, CrmLink)] == [("H-1", opp["Id"])]
    assert (opp["OwnerId"], opp["StageName"]) == ("005DANA", "Prospecting")
    await crm.slash("handoff H-1 accept", user="U2")
    await crm.slash("handoff H-1 positioned")
    await crm.sync()
    assert sf.made("Opportunity")[0]["StageName"] == "Needs Analysis"


async def test_request_limit_waits_and_a_validation_error_is_parked_for_admins(crm):
    sf = crm.fake
    sf.fail_next("POST", f"{API}/sobjects/Account/", 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()
    assert len(sf.made("Opportunity")) == 1
    sf.fail_next("POST", f"{API}/sobjects/Opportunity/", 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                 "Region is required")
    await crm.slash("idea Globex: joint webinar")
    await crm.sync()
    assert len(sf.made("Opportunity")) == 1
    status = await crm.slash("crm status")
    assert "Salesforce is connected." in status
    assert "- L-2: Salesforce 400: FIELD_CUSTOM_VALIDATION_EXCEPTION: Region is required" in status
    parked = [m for m in await rows(crm.bot.db, OutboxMessage, OutboxMessage.platform == "salesforce")
              if m.status == "failed"]
    assert len(parked) == 1


async def test_a_change_made_in_salesforce_comes_back(crm):
    sf = crm.fake
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.slash("list", user="U2")
    await crm.slash("handoff <@U2|dana> Globex: needs a security review")
    await crm.sync()
    lead_opp, handoff_opp = sf.made("Opportunity")
    writes = sf.writes()
    sf.edit("Opportunity", lead_opp["Id"], StageName="Closed Lost")
    sf.edit("Opportunity", handoff_opp["Id"], StageName="Qualification")
    assert (await crm.sync())["changes read back from the CRM"] == 2
    assert [lead.status for lead in await rows(crm.bot.db, Lead)] == ["lost"]
    assert [h.stage for h in await rows(crm.bot.db, Handoff)] == ["introduced"]
    assert sf.writes() == writes  # not written back


@pytest.mark.parametrize("env, says", [
    ({"SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com"}, "needs SALESFORCE_ACCESS_TOKEN too"),
    ({"SALESFORCE_INSTANCE_URL": "http://acme.my.salesforce.com", "SALESFORCE_ACCESS_TOKEN": "t"}, "must be https"),
    ({"SALESFORCE_INSTANCE_URL": "https://a.my.salesforce.com", "SALESFORCE_ACCESS_TOKEN": "t",
      "HUBSPOT_ACCESS_TOKEN": "h"}, "not both"),
])
def test_a_crm_half_configured_is_refused_at_start(env, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=says):
        load_settings(env)
