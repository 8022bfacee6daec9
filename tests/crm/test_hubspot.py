"""Leads, their next activities and wins written to HubSpot: real signed Slack requests in (Slack's
users.info gives each rep's email, which maps them to a HubSpot owner), the tick turning the
activity log into outbox rows, the outbox sender writing them through hubspot-api-client to a
fake HubSpot on loopback that records every call. Retries never make a second deal; a 429 waits;
a refused write is parked with HubSpot's words and `crm status` shows it; a change made in
HubSpot comes back quietly, unless our own newer change is still owed to it."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from storage.models import CrmLink, OutboxMessage
from tests.conftest import FixedClock
from tests.fakes.hubspot_api import FakeHubSpot
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_body
from tests.helpers import rows
from tests.reports.test_export import loopback

TOKEN = "pat-na1-test"


class Crm:
    """The served app with a fake Slack and a fake CRM (`fake`; `hubspot` in these tests)."""

    def __init__(self, bot: Partnerbot, clock: FixedClock, url: str, slack: FakeSlackApi, fake,
                 http: aiohttp.ClientSession, platform: str = "hubspot"):
        self.bot, self.clock, self.url, self.slack, self.http = bot, clock, url, slack, http
        self.fake = self.hubspot = fake
        self.platform = platform

    async def slash(self, text: str, user: str = "U1") -> str:
        body = slash_body(text, user=user)
        async with self.http.post(f"{self.url}/slack/events", data=body, headers=signed_headers(body)) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["text"]

    async def sync(self):
        """The tick (the log becomes CRM writes, the CRM's changes come back), then the sender
        writes them: drained here, or by the served app's own sender when it leased a row first
        (then waited for, 10 s at most). What the tick did, by kind."""
        done = await self.bot.run_cadence()
        await self.bot.sender.drain()
        for _ in range(200):
            owed = [m for m in await rows(self.bot.db, OutboxMessage, OutboxMessage.platform == self.platform)
                    if m.status == "pending" and m.next_attempt_at <= self.clock.now]
            if not owed:
                return done
            await asyncio.sleep(0.05)
        return done


@pytest.fixture
async def crm(request, schema_url, tmp_path, monkeypatch):
    """Parametrized indirectly with more environment, when a test needs it."""
    monkeypatch.chdir(tmp_path)
    slack = await FakeSlackApi(timezones={"U1": "Europe/Berlin", "U2": "Europe/Berlin", "U3": "Europe/Berlin"}).start()
    slack.emails.update({"U1": "ana@acme.example", "U2": "dana@globex.example"})  # U3 (maria) has none
    slack.admins.add("U1")
    hubspot = FakeHubSpot(TOKEN, owners={"ana@acme.example": "o-ana", "dana@globex.example": "o-dana"})
    async with loopback(hubspot.app()) as hubspot_url:
        clock = FixedClock()
        settings = load_settings({"DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                                  "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.url,
                                  "HUBSPOT_ACCESS_TOKEN": TOKEN, "HUBSPOT_API_URL": hubspot_url,
                                  **getattr(request, "param", {})})
        bot = Partnerbot(settings, clock)
        await bot.upgrade()
        try:
            async with loopback(build_web_app(bot)) as url, aiohttp.ClientSession() as http:
                yield Crm(bot, clock, url, slack, hubspot, http)
        finally:
            await slack.stop()


async def test_a_lead_its_next_activity_and_its_win_reach_hubspot_with_owners_and_the_split(crm):
    await crm.slash("list", user="U2")  # dana has used the bot: Slack gave her email
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on owner <@U2|dana>")  # L-1, raised by ana
    await crm.sync()
    [company] = crm.hubspot.made("companies")
    [deal] = crm.hubspot.made("deals")
    assert company["properties"]["name"] == "Acme Corp"
    assert deal["properties"]["dealname"] == "L-1 cross-sell the analytics add-on"
    assert deal["properties"]["dealstage"] == "appointmentscheduled"
    assert deal["properties"]["hubspot_owner_id"] == "o-dana"  # the owner of the lead
    assert deal["properties"]["hs_all_collaborator_owner_ids"] == "o-ana"  # who raised it
    assert deal["associations"] == [(company["id"], 5)]

    await crm.slash("lead L-1 next demo with their CTO by fri", user="U2")
    await crm.sync()
    [task] = crm.hubspot.made("tasks")
    assert task["properties"]["hs_task_subject"].endswith("demo with their CTO")
    assert task["properties"]["hubspot_owner_id"] == "o-dana" and task["properties"]["hs_task_status"] == "NOT_STARTED"
    assert task["associations"] == [(deal["id"], 216)]

    assert "won" in (await crm.slash("win L-1 120k", user="U2")).lower()
    await crm.sync()
    [deal] = crm.hubspot.made("deals")  # the same deal, updated
    assert (deal["properties"]["dealstage"], deal["properties"]["amount"]) == ("closedwon", "120000.00")
    # this portal has no deal splits: the split is a note on the deal, and admins are told why
    [note] = crm.hubspot.made("notes")
    assert note["properties"]["hs_note_body"].startswith("Partnerbot credit split of L-1: ")
    assert note["associations"] == [(deal["id"], 214)]
    assert "this HubSpot portal has no deal splits" in await crm.slash("crm status")
    assert [w for w in crm.hubspot.writes() if w[1] == "/crm/v3/objects/deals"] == [("POST", "/crm/v3/objects/deals")]
    # nothing owed twice: another tick writes nothing (it reads back its own writes, which change nothing)
    before = crm.hubspot.writes()
    assert (await crm.sync()).get("changes read back from the CRM") is None
    assert crm.hubspot.writes() == before


async def test_a_handoff_is_a_deal_of_the_receiving_rep_with_the_giver_on_it_moving_with_its_stages(crm):
    await crm.slash("list", user="U2")  # dana's email is known
    await crm.slash("handoff <@U2|dana> Globex: needs a security review")  # H-1, ana → dana
    await crm.sync()
    [deal] = crm.hubspot.made("deals")
    assert deal["properties"]["dealname"] == "H-1 Globex: needs a security review"
    assert (deal["properties"]["hubspot_owner_id"], deal["properties"]["hs_all_collaborator_owner_ids"]) == \
        ("o-dana", "o-ana")
    assert deal["properties"]["dealstage"] == "appointmentscheduled"
    await crm.slash("handoff H-1 accept", user="U2")
    await crm.slash("handoff H-1 positioned")
    await crm.sync()
    assert crm.hubspot.made("deals")[0]["properties"]["dealstage"] == "presentationscheduled"
    await crm.slash("win H-1 50k")
    await crm.sync()
    [deal] = crm.hubspot.made("deals")
    assert (deal["properties"]["dealstage"], deal["properties"]["amount"]) == ("closedwon", "50000.00")
    [note] = crm.hubspot.made("notes")
    # the split as the credit report has it (Slack's fake names the reps by their ids), adding up to the amount
    assert note["properties"]["hs_note_body"] == ("Partnerbot credit split of H-1: u2 62.5% (deliverer) = 31,250.00; "
                                                  "u1 37.5% (originator) = 18,750.00.")


async def test_where_the_portal_has_deal_splits_the_credit_split_is_the_deals_splits(crm):
    crm.hubspot.splits_enabled = True
    await crm.slash("list", user="U2")
    await crm.slash("handoff <@U2|dana> Globex: needs a security review")  # H-1, ana → dana, dana owns the deal
    await crm.slash("handoff H-1 accept", user="U2")
    await crm.slash("win H-1 50k")
    await crm.sync()
    [deal] = crm.hubspot.made("deals")
    assert crm.hubspot.splits == {deal["id"]: [{"ownerId": "o-dana", "percentage": 0.625},
                                               {"ownerId": "o-ana", "percentage": 0.375}]}
    assert not crm.hubspot.made("notes")
    assert "deal splits" not in await crm.slash("crm status")


async def test_a_split_with_someone_hubspot_cannot_map_is_a_note_saying_who(crm):
    crm.hubspot.splits_enabled = True
    crm.hubspot.owners.pop("ana@acme.example")
    await crm.slash("list", user="U2")
    await crm.slash("handoff <@U2|dana> Globex: needs a security review")
    await crm.slash("handoff H-1 accept", user="U2")
    await crm.slash("win H-1 50k")
    await crm.sync()
    assert not crm.hubspot.splits
    [note] = crm.hubspot.made("notes")
    assert note["properties"]["hs_note_body"].endswith("(not as deal splits: no HubSpot user for u1)")


async def test_a_change_made_in_hubspot_comes_back_quietly_and_is_not_written_back(crm):
    await crm.slash("list", user="U2")
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on owner <@U2|dana>")  # L-1
    await crm.slash("handoff <@U2|dana> Globex: needs a security review")  # H-1
    await crm.sync()
    lead_deal, handoff_deal = crm.hubspot.made("deals")
    writes = crm.hubspot.writes()
    told = [m.id for m in await rows(crm.bot.db, OutboxMessage, OutboxMessage.platform == "slack")]
    # in HubSpot, a sales manager closes the lead's deal won at 90,000 and moves the handoff's on
    crm.hubspot.edit("deals", lead_deal["id"], dealstage="closedwon", amount="90000", closedate="2026-11-30")
    crm.hubspot.edit("deals", handoff_deal["id"], dealstage="presentationscheduled")
    done = await crm.sync()
    assert done["changes read back from the CRM"] == 2
    from storage.models import ActivityLog, Handoff, Lead
    [lead], [handoff] = await rows(crm.bot.db, Lead), await rows(crm.bot.db, Handoff)
    assert (lead.status, lead.amount_cents, lead.closed_at.date().isoformat()) == ("won", 9_000_000, "2026-11-30")
    assert handoff.stage == "positioned"
    logged = await rows(crm.bot.db, ActivityLog, ActivityLog.platform == "hubspot")
    assert [(a.action, a.record, a.person_id) for a in logged] == [("lead.changed_in_crm", "L-1", None),
                                                                  ("handoff.changed_in_crm", "H-1", None)]
    # quietly: nobody told, nothing celebrated, nothing written back to HubSpot
    assert [m.id for m in await rows(crm.bot.db, OutboxMessage, OutboxMessage.platform == "slack")] == told
    assert crm.hubspot.writes() == writes


async def test_our_change_not_yet_written_wins_over_the_crms_older_state(crm):
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()
    [deal] = crm.hubspot.made("deals")
    assert "lost" in (await crm.slash("lead L-1 lost they chose a competitor")).lower()
    await crm.bot.runner.tick(crm.clock())  # the loss is owed to HubSpot, not written yet
    crm.hubspot.edit("deals", deal["id"], dealname="L-1 renamed in HubSpot")  # still open there
    assert not await crm.bot.read_back_crm()  # the lead stays lost
    from storage.models import Lead
    assert [lead.status for lead in await rows(crm.bot.db, Lead)] == ["lost"]
    await crm.sync()
    assert crm.hubspot.made("deals")[0]["properties"]["dealstage"] == "closedlost"


@pytest.mark.parametrize("crm", [{"PARTNERBOT_CRM__STAGES__POSITIONED": "demoscheduled"}], indirect=True)
async def test_a_stage_mapped_to_the_portals_own_goes_out_and_comes_back_as_ours(crm):
    await crm.slash("list", user="U2")
    await crm.slash("handoff <@U2|dana> Globex: needs a security review")
    await crm.slash("handoff H-1 accept", user="U2")
    await crm.slash("handoff H-1 positioned")
    await crm.sync()
    [deal] = crm.hubspot.made("deals")
    assert deal["properties"]["dealstage"] == "demoscheduled"  # the operator's; the others keep the defaults
    crm.hubspot.edit("deals", deal["id"], dealstage="qualifiedtobuy")
    await crm.sync()
    crm.hubspot.edit("deals", deal["id"], dealstage="demoscheduled")
    await crm.sync()
    from storage.models import ActivityLog
    moved = await rows(crm.bot.db, ActivityLog, ActivityLog.action == "handoff.changed_in_crm")
    assert [a.after["stage"] for a in moved] == ["introduced", "positioned"]


@pytest.mark.parametrize("crm", [{"PARTNERBOT_CRM__WORKSPACES": "slack:T9,teams:contoso"},
                                 {"PARTNERBOT_CRM__WORKSPACES": "slack:T1"}], indirect=True)
async def test_only_the_workspaces_crm_workspaces_names_go_out(crm):
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")  # in Slack workspace T1
    await crm.sync()
    status = await crm.slash("crm status")
    if "slack:T1" in crm.bot.settings.crm_workspaces:
        assert len(crm.hubspot.made("deals")) == 1 and "HubSpot is connected." in status
    else:
        assert not crm.hubspot.made("deals") and not crm.hubspot.writes()
        assert "This workspace's records do not go out to HubSpot" in status


def test_a_crm_workspace_not_named_as_platform_and_id_is_refused_at_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from bot.config import ConfigError
    with pytest.raises(ConfigError, match="lists workspaces as platform:id"):
        load_settings({"PARTNERBOT_CRM__WORKSPACES": "T0123"})


def test_a_stage_of_no_such_name_is_refused_at_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from bot.config import ConfigError
    with pytest.raises(ConfigError, match="unknown setting 'crm.stages.qualified'"):
        load_settings({"PARTNERBOT_CRM__STAGES__QUALIFIED": "qualifiedtobuy"})


async def test_a_write_retried_after_hubspot_made_it_updates_the_deal_it_made(crm):
    crm.hubspot.fail_next("POST", "/crm/v3/objects/deals", 502, "bad gateway", after_effect=True)
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()  # HubSpot made the deal, but its answer was lost: the row is retried later
    assert len(crm.hubspot.made("deals")) == 1 and not await rows(crm.bot.db, CrmLink)
    crm.clock.now += timedelta(minutes=10)
    await crm.sync()
    [deal] = crm.hubspot.made("deals")
    assert [(link.record, link.crm_id) for link in await rows(crm.bot.db, CrmLink)] == [("L-1", deal["id"])]
    assert [m.status for m in await rows(crm.bot.db, OutboxMessage, OutboxMessage.platform == "hubspot")] == ["sent"]


async def test_a_429_waits_and_goes_through(crm):
    crm.hubspot.fail_next("POST", "/crm/v3/objects/companies", 429, "rate limited", headers={"Retry-After": "1"},
                          category="RATE_LIMITS")
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()
    assert len(crm.hubspot.made("deals")) == 1
    [row] = await rows(crm.bot.db, OutboxMessage, OutboxMessage.platform == "hubspot")
    assert (row.status, row.last_error) == ("sent", "throttled: rate limited for 1.0s")  # waited as told
    assert [c.path for c in crm.hubspot.calls if c.method == "POST"].count("/crm/v3/objects/companies") == 2


async def test_a_refused_write_is_parked_with_hubspots_reason_for_admins_to_see(crm):
    crm.hubspot.fail_next("POST", "/crm/v3/objects/deals", 400, "Property values were not valid: the required "
                          "property 'region' is missing")
    await crm.slash("idea Acme Corp: cross-sell the analytics add-on")
    await crm.sync()
    assert not crm.hubspot.made("deals")
    status = await crm.slash("crm status")
    assert "HubSpot is connected." in status
    assert "- L-1: HubSpot 400: Property values were not valid: the required property 'region' is missing" in status
    # only admins see it
    refused = await crm.slash("crm status", user="U2")
    assert "Only an admin" in refused


async def test_without_a_crm_nothing_is_owed_and_crm_status_says_how_to_connect(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from tests.conftest import Chat
    bot = Partnerbot(load_settings({"DATABASE_URL": schema_url}), FixedClock())
    await bot.upgrade()
    chat = Chat(bot.dispatcher)
    assert (await chat.say("ana", "idea Acme Corp: a pilot")).ok
    await bot.run_cadence()
    assert not [m for m in await rows(bot.db, OutboxMessage) if "crm" in m.payload]
    assert "No CRM is connected" in (await chat.say("ana", "crm status")).text
    await bot.close()
