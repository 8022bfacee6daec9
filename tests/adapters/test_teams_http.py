"""Teams over real HTTP: Bot Framework activities in, replies out to a fake connector at serviceUrl."""
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from storage.models import Commitment, Handoff
from tests.fakes.teams_connector import BOT, FakeConnector, mention, message, person
from tests.helpers import TEAMS_ON_LOOPBACK, rows, snapshot

ANA = person("aad-ana", "Ana")
MARIA = person("aad-maria", "Maria")
CARL = person("aad-carl", "Carl")


@dataclass
class TeamsServer:
    url: str
    bot: Partnerbot
    connector: FakeConnector
    http: aiohttp.ClientSession

    async def send(self, activity: dict, headers: dict | None = None) -> aiohttp.ClientResponse:
        return await self.http.post(f"{self.url}/api/messages", json=activity, headers=headers)

    async def say(self, text: str, sender: dict = ANA, **kw) -> dict:
        activity = message(text, sender=sender, service_url=self.connector.url, **kw)
        response = await self.send(activity)
        assert response.status in (200, 201), await response.text()
        return activity




async def _serve(db_url, env: dict):
    bot = Partnerbot(load_settings({"DATABASE_URL": db_url, **TEAMS_ON_LOOPBACK, **env}))
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return bot, runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def teams(schema_url, connector, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bot, runner, url = await _serve(schema_url, {})
    async with aiohttp.ClientSession() as http:
        yield TeamsServer(url, bot, connector, http)
    await runner.cleanup()


async def test_a_personal_chat_command_is_answered_with_a_card_in_the_users_timezone(teams):
    sent = await teams.say("commit send pricing to Acme by fri", local_timezone="Asia/Tokyo")
    (reply,) = await teams.connector.wait_for("a:personal-aad-ana")
    assert reply.reply_to == sent["id"]
    assert reply.card["type"] == "AdaptiveCard" and reply.card["version"] == "1.5"
    assert "C-1 saved: send pricing to Acme" in reply.fallback and "(Asia/Tokyo)" in reply.fallback
    assert reply.activity["summary"] == reply.fallback


async def test_partner_prefix_and_a_bot_mention_in_a_channel_both_work(teams):
    await teams.say("partner commit a by fri")
    await teams.say("<at>Partnerbot</at> commit b by fri", channel=True, entities=[mention(BOT)])
    assert "C-1 saved: a" in (await teams.connector.wait_for("a:personal-aad-ana"))[0].fallback
    assert "C-2 saved: b" in (await teams.connector.wait_for("19:channel@thread.tacv2"))[0].fallback


async def test_a_handoff_to_someone_who_never_talked_to_the_bot_waits_for_their_first_contact(teams):
    await teams.say("handoff <at>Maria</at> Acme Corp: needs a security review by fri", entities=[mention(MARIA)])
    (answer,) = await teams.connector.wait_for("a:personal-aad-ana")
    assert "H-1 handed to Maria" in answer.fallback and "has not talked to Partnerbot yet" in answer.fallback
    assert teams.connector.to("a:personal-aad-maria") == []

    help_message = await teams.say("help", sender=MARIA)  # Maria's first contact
    posted = await teams.connector.wait_for("a:personal-aad-maria", 2)
    offer = next(p for p in posted if "handed you H-1" in p.fallback)
    assert offer.reply_to != help_message["id"]  # its own message, not the answer to "help"
    assert offer.submits == [("Accept", "handoff H-1 accept"), ("Decline", "handoff H-1 decline")]


async def test_accepting_from_the_card_updates_it_and_tells_the_sender(teams):
    await teams.say("help", sender=MARIA)
    await teams.say("handoff <at>Maria</at> Acme Corp: needs a security review", entities=[mention(MARIA)])
    answer = (await teams.connector.wait_for("a:personal-aad-ana"))[0]
    assert "I've asked them to accept it" in answer.fallback
    offer = (await teams.connector.wait_for("a:personal-aad-maria", 2))[1]
    await teams.say(None, sender=MARIA, value={"command": offer.submits[0][1]}, reply_to="activity-offer")
    updated = [p for p in await teams.connector.wait_for("a:personal-aad-maria", 3) if p.method == "PUT"]
    assert updated[0].reply_to == "activity-offer" and "You accepted H-1" in updated[0].fallback
    assert "actions" not in updated[0].card
    told = await teams.connector.wait_for("a:personal-aad-ana", 2)
    assert "Maria accepted H-1" in told[1].fallback
    (handoff,) = await rows(teams.bot.db, Handoff)
    assert handoff.accepted_at is not None


async def test_a_forged_submit_is_refused_and_changes_nothing(teams):
    await teams.say("handoff <at>Maria</at> Acme Corp: needs a security review", entities=[mention(MARIA)])
    await teams.connector.wait_for("a:personal-aad-ana")
    before = await snapshot(teams.bot.db)
    await teams.say(None, sender=CARL, value={"command": "handoff H-1 accept"}, reply_to="x")
    (refusal,) = await teams.connector.wait_for("a:personal-aad-carl")
    assert "Only the rep H-1 was handed to" in refusal.fallback and refusal.method == "POST"
    assert await snapshot(teams.bot.db) == before


async def test_bad_input_gets_a_reason_and_usage(teams):
    await teams.say("commit send deck")
    await teams.say("dance")
    first, second = await teams.connector.wait_for("a:personal-aad-ana", 2)
    assert "needs a date" in first.fallback and "Usage:" in first.fallback
    assert "don't know the verb 'dance'" in second.fallback
    assert await rows(teams.bot.db, Commitment) == []


async def test_malformed_bodies_get_4xx(teams):
    response = await teams.http.post(f"{teams.url}/api/messages", data="{not json",
                                     headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await teams.send({"no": "type"})).status == 400
    response = await teams.http.post(f"{teams.url}/api/messages", data="x", headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_with_an_app_id_a_request_without_a_valid_token_gets_401_and_changes_nothing(
        db_url, connector, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bot, runner, url = await _serve(db_url, {"MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555",
                                             "MICROSOFT_APP_PASSWORD": "secret"})
    try:
        async with aiohttp.ClientSession() as http:
            activity = message("commit a by fri", sender=ANA, service_url=connector.url)
            no_token = await http.post(f"{url}/api/messages", json=activity)
            wrong_scheme = await http.post(f"{url}/api/messages", json=activity,
                                           headers={"Authorization": "Basic YTpi"})
        assert no_token.status == 401 and wrong_scheme.status == 401
        assert await rows(bot.db, Commitment) == [] and connector.posted == []
    finally:
        await runner.cleanup()


async def test_link_across_a_slack_and_a_teams_identity_over_http(schema_url, connector, tmp_path, monkeypatch):
    import re

    from tests.fakes.slack_api import FakeSlackApi
    from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_body

    monkeypatch.chdir(tmp_path)
    slack_api = await FakeSlackApi().start()
    bot, runner, url = await _serve(schema_url, {"SLACK_SIGNING_SECRET": SIGNING_SECRET,
                                                 "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack_api.url})
    try:
        async with aiohttp.ClientSession() as http:
            async def slash(text: str) -> str:
                body = slash_body(text, user="U1")
                response = await http.post(f"{url}/slack/events", data=body, headers=signed_headers(body))
                return (await response.json())["text"]

            server = TeamsServer(url, bot, connector, http)
            await slash("commit send the Slack deck by fri")
            code = re.search(r"link code is (\w+)", await slash("link")).group(1)
            await server.say(f"link {code}")
            assert "Linked" in await slash("link confirm")  # the code's issuer confirms, on Slack
            linked = (await connector.wait_until(
                lambda: [x for x in connector.to("a:personal-aad-ana") if "Linked" in x.fallback], 1, 10.0,
                "the requester told"))[0]
            await server.say("list")
            listed = (await connector.wait_for("a:personal-aad-ana", 3))[-1]
        assert "one person" in linked.fallback
        assert "C-1 (on Slack) · send the Slack deck" in listed.fallback
    finally:
        await runner.cleanup()
        await slack_api.stop()


async def test_a_card_submit_without_its_command_is_refused_clearly(teams):
    before = await snapshot(teams.bot.db)
    await teams.say(None, value={"reference": "H-1"}, reply_to="x")
    (answer,) = await teams.connector.wait_for("a:personal-aad-ana")
    assert "incomplete" in answer.fallback
    assert await snapshot(teams.bot.db) == before


def test_the_timezone_comes_from_the_client_info_entity_too():
    from adapters.teams.translate import from_activity

    activity = message("list", sender=ANA, service_url="http://x/",
                       entities=[{"type": "clientInfo", "locale": "de-DE", "timezone": "Europe/Berlin"}])
    assert from_activity(activity).platform_timezone == "Europe/Berlin"


async def test_a_bare_mention_of_the_bot_is_answered_with_help(teams):
    await teams.say("<at>Partnerbot</at>", channel=True, entities=[mention(BOT)])
    (answer,) = await teams.connector.wait_for("19:channel@thread.tacv2")
    assert "Partnerbot verbs" in answer.fallback
