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
from storage.models import CrmLink, Handoff, Identity, Lead, OutboxMessage, WinCredit
from tests.conftest import FixedClock
from tests.crm.test_hubspot import Crm
from tests.fakes.salesforce_api import API, REVENUE, FakeSalesforce
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


LOGIN = ("integration@acme.example", "s3cret<&>")  # escaped in the SOAP body, as Salesforce reads it
SECURITY_TOKEN = "tok3n"
BY_LOGIN = {"SALESFORCE_ACCESS_TOKEN": "", "SALESFORCE_INSTANCE_URL": "", "SALESFORCE_USERNAME": LOGIN[0],
            "SALESFORCE_PASSWORD": LOGIN[1], "SALESFORCE_SECURITY_TOKEN": SECURITY_TOKEN}


@pytest.fixture
async def crm(request, schema_url, tmp_path, monkeypatch):
    """Parametrized indirectly: {"splits": True} turns Opportunity Splits on in the org, {"env": …}
    sets more of the environment (the login's: URL "{fake}" is the fake's own)."""
    given = getattr(request, "param", {})
    monkeypatch.chdir(tmp_path)
    slack = await FakeSlackApi(timezones={"U1": "Europe/Berlin", "U2": "Europe/Berlin"}).start()
    slack.emails.update({"U1": "ana@acme.example", "U2": "dana@globex.example"})
    slack.admins.add("U1")
    salesforce = FakeSalesforce(TOKEN, users={"ana@acme.example": "005ANA", "dana@globex.example": "005DANA"},
                                login=(LOGIN[0], LOGIN[1] + SECURITY_TOKEN), splits_enabled=given.get("splits", False))
    salesforce.authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))  # requests trusts the fake's authority
    async with https(salesforce.app(), salesforce.ssl_context()) as salesforce_url:
        clock = FixedClock()
        bot = Partnerbot(load_settings({
            "DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.url, "SALESFORCE_INSTANCE_URL": salesforce_url,
            "SALESFORCE_ACCESS_TOKEN": TOKEN,
            **{name: value.replace("{fake}", salesforce_url) for name, value in given.get("env", {}).items()}}), clock)
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
    # splits are not turned on in this org: the split is a note, and admins are told why
    [note] = sf.made("Note")
    assert note["ParentId"] == opp["Id"] and note["Body"].startswith("Partnerbot credit split of L-1: ")
    assert [w for w in sf.writes() if w == ("POST", f"{API}/sobjects/Opportunity/")] == [
        ("POST", f"{API}/sobjects/Opportunity/")]
    assert "Opportunity Splits are not turned on in this org" in await crm.slash("crm status")


async def _won_lead(crm) -> dict:
    """L-1 raised by ana, owned by dana, won by dana at 120k: its Opportunity."""
    await crm.slash("list", user="U2")
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on owner <@U2|dana>")
    await crm.sync()
    await crm.slash("win L-1 120k", user="U2")
    await crm.sync()
    [opp] = crm.fake.made("Opportunity")
    return opp


@pytest.mark.parametrize("crm", [{"splits": True}], indirect=True)
async def test_the_credit_split_is_the_opportunitys_revenue_splits_where_the_org_has_them(crm):
    sf = crm.fake
    opp = await _won_lead(crm)
    credits = {c.person_id: c for c in await rows(crm.bot.db, WinCredit)}
    users = {i.person_id: {"U1": "005ANA", "U2": "005DANA"}[i.external_id] for i in await rows(crm.bot.db, Identity)}
    splits = {s["SplitOwnerId"]: s for s in sf.made("OpportunitySplit")}
    # the owner's 100% split Salesforce made is now the credit split, with the roles as its note
    assert {user: s["SplitPercentage"] for user, s in splits.items()} == {
        users[person]: round(c.share * 100, 2) for person, c in credits.items()}
    assert sum(s["SplitPercentage"] for s in splits.values()) == 100
    assert splits["005ANA"]["SplitNote"] == "originator" and splits["005ANA"]["SplitTypeId"] == REVENUE
    assert {(m["OpportunityId"], m["UserId"]) for m in sf.made("OpportunityTeamMember")} == {(opp["Id"], "005ANA")}
    assert not sf.made("Note")
    assert "not turned on" not in await crm.slash("crm status")
    # written again (the retry of a lost answer, or a change): the same splits, none added
    before = sorted((s["Id"], s["SplitPercentage"]) for s in sf.made("OpportunitySplit"))
    [row] = [m for m in await rows(crm.bot.db, OutboxMessage, OutboxMessage.platform == "salesforce")
             if m.payload["crm"]["op"] == "split"]
    await crm.bot.crm.deliver_payload(None, row.payload)
    assert sorted((s["Id"], s["SplitPercentage"]) for s in sf.made("OpportunitySplit")) == before


@pytest.mark.parametrize("crm", [{"splits": True}], indirect=True)
async def test_someone_credited_without_a_salesforce_user_gets_the_split_as_a_note(crm):
    crm.fake.users.pop("ana@acme.example")
    await _won_lead(crm)
    [note] = crm.fake.made("Note")
    assert note["Body"].endswith("(not as splits: no Salesforce user for u1)")
    assert [s["SplitPercentage"] for s in crm.fake.made("OpportunitySplit")] == [100.0]  # Salesforce's own, untouched


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


@pytest.mark.parametrize("crm", [{"env": {**BY_LOGIN, "SALESFORCE_LOGIN_URL": "{fake}"}}], indirect=True)
async def test_the_integration_users_login_opens_the_session_and_renews_it_when_it_expires(crm):
    sf = crm.fake
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()
    assert sf.logins == 1 and len(sf.made("Opportunity")) == 1
    sf.expire_session()  # Salesforce ends the session (its timeout, or an admin)
    await crm.slash("idea Globex: joint webinar")
    await crm.sync()
    assert sf.logins == 2 and len(sf.made("Opportunity")) == 2
    assert [m.status for m in await rows(crm.bot.db, OutboxMessage, OutboxMessage.platform == "salesforce")] == \
        ["sent", "sent"]


@pytest.mark.parametrize("crm", [{"env": {**BY_LOGIN, "SALESFORCE_PASSWORD": "wrong",
                                          "SALESFORCE_LOGIN_URL": "{fake}"}}], indirect=True)
async def test_a_refused_login_parks_the_write_with_salesforces_words(crm):
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()
    assert not crm.fake.made("Opportunity")
    assert ("- L-1: Salesforce refused the login of integration@acme.example: Invalid username, password, "
            "security token; or user locked out.") in await crm.slash("crm status")


async def test_an_expired_token_without_a_login_parks_the_write_saying_what_to_set(crm):
    crm.fake.expire_session()
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()
    assert not crm.fake.made("Opportunity")
    assert "- L-1: Salesforce 401: INVALID_SESSION_ID: Session expired or invalid: set a new " \
           "SALESFORCE_ACCESS_TOKEN" in await crm.slash("crm status")


@pytest.mark.parametrize("env, says", [
    ({"SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com"}, "needs SALESFORCE_ACCESS_TOKEN too"),
    ({"SALESFORCE_INSTANCE_URL": "http://acme.my.salesforce.com", "SALESFORCE_ACCESS_TOKEN": "t"}, "must be https"),
    ({"SALESFORCE_INSTANCE_URL": "https://a.my.salesforce.com", "SALESFORCE_ACCESS_TOKEN": "t",
      "HUBSPOT_ACCESS_TOKEN": "h"}, "not both"),
    ({"SALESFORCE_USERNAME": "integration@acme.example"}, "needs SALESFORCE_PASSWORD too"),
    ({"SALESFORCE_SECURITY_TOKEN": "t"}, "needs SALESFORCE_USERNAME"),
    ({"SALESFORCE_USERNAME": "i@acme.example", "SALESFORCE_PASSWORD": "p", "SALESFORCE_LOGIN_URL": "http://x"},
     "SALESFORCE_LOGIN_URL must be https"),
])
def test_a_crm_half_configured_is_refused_at_start(env, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=says):
        load_settings(env)
