"""The Teams endpoint believes only what it can verify (issue 19), over real HTTP against the app
`serve` runs: no endpoint unless configured, 401 for every token it cannot verify, 400 for an
activity not from Teams or nested absurdly deep, 403 for a serviceUrl or tenant off the
allow-lists — each refusal changing nothing (rows counted before and after) and sending nothing."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from adapters.teams.trust import MICROSOFT_HOSTS, ServiceUrls
from bot.config import ConfigError, load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from storage.models import ChannelContact, Identity, OutboxMessage, Person, Workspace
from tests.fakes.teams_connector import FakeConnector, mention, message, person
from tests.helpers import TEAMS_ON_LOOPBACK, count, rows, snapshot
from tests.spawn import clean_env, start

ANA = person("aad-ana", "Ana")
MARIA = person("aad-maria", "Maria")
APP_ID = {"MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555", "MICROSOFT_APP_PASSWORD": "secret"}


@asynccontextmanager
async def serving(db_url: str, env: dict[str, str]) -> AsyncIterator[tuple[Partnerbot, str, aiohttp.ClientSession]]:
    """The app `serve` runs (routes, outbox sender) on a free loopback port, with these settings."""
    bot = Partnerbot(load_settings({"DATABASE_URL": db_url, **env}))
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as http:
            yield bot, f"http://127.0.0.1:{runner.addresses[0][1]}", http
    finally:
        await runner.cleanup()


async def people(db) -> dict[str, int]:
    """Who and where the bot knows, with everything a command may change."""
    return {**await snapshot(db), **{m.__name__: await count(db, m) for m in (Workspace, Person, Identity, ChannelContact)}}


def forged_jwt(header: dict, claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part(header)}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def _here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults plus what each test sets


async def test_without_an_app_id_or_the_setting_a_slack_only_deployment_has_no_teams_endpoint(
        schema_url, fake_slack, connector):
    slack_only = {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake_slack.url}
    async with serving(schema_url, slack_only) as (bot, url, http):
        before = await people(bot.db)
        response = await http.post(f"{url}/api/messages",
                                   json=message("list", sender=ANA, service_url=connector.url))
        assert response.status == 404
        assert await (await http.get(f"{url}/healthz")).json() == {"ok": True, "slack": True, "teams": False}
        assert await people(bot.db) == before and connector.posted == []


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_the_unauthenticated_setting_is_accepted_on_a_loopback_host(host):
    assert load_settings({"HOST": host, **TEAMS_ON_LOOPBACK}).teams_unauthenticated


@pytest.mark.process
async def test_serve_refuses_to_start_unauthenticated_on_a_reachable_host(tmp_path, db_url):
    process = await start("serve", cwd=tmp_path, env=clean_env(DATABASE_URL=db_url, HOST="0.0.0.0", PORT="0",
                                                               PARTNERBOT_TEAMS__UNAUTHENTICATED="1"))
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert out.decode().strip() == (
        "partnerbot: configuration error: setting 'teams.unauthenticated' is refused unless HOST is a loopback "
        "address (127.0.0.1, ::1, localhost), got HOST=0.0.0.0")


async def test_every_token_it_cannot_verify_is_a_401_without_a_traceback_and_changes_nothing(
        schema_url, connector, caplog):
    caplog.set_level(logging.INFO)
    tokens = [
        None, "", "Basic YTpi", "Bearer", "Bearer garbage-token", "Bearer a.b.c", "Bearer ....",
        f"Bearer {forged_jwt({'alg': 'RS256'}, {'x': 1})}",  # no issuer
        f"Bearer {forged_jwt({'alg': 'none'}, {'iss': 'https://attacker.example'})}",
        f"Bearer {forged_jwt({'alg': 'RS256', 'kid': 'k'}, {'iss': ['a', 'b']})}",
    ]
    async with serving(schema_url, APP_ID) as (bot, url, http):
        before = await people(bot.db)
        for token in tokens:
            headers = {} if token is None else {"Authorization": token}
            response = await http.post(f"{url}/api/messages", headers=headers,
                                       json=message("list", sender=ANA, service_url=connector.url))
            assert (response.status, await response.json()) == (401, {"error": "unauthorized"}), token
        assert await people(bot.db) == before and connector.posted == []
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    refused = [r.getMessage() for r in caplog.records if "Teams request refused (401)" in r.getMessage()]
    assert refused and all("\n" not in line and "garbage-token" not in line for line in refused)


async def test_an_activity_not_from_teams_is_a_400_and_changes_nothing(schema_url, connector):
    async with serving(schema_url, TEAMS_ON_LOOPBACK) as (bot, url, http):
        before = await people(bot.db)
        for channel in ("slack", "directline", "webchat", None):
            activity = message("commit take over by fri", sender=ANA, service_url=connector.url)
            activity["channelId"] = channel
            response = await http.post(f"{url}/api/messages", json=activity)
            assert response.status == 400, channel
            assert "channelId must be" in (await response.json())["error"]
        assert await people(bot.db) == before and connector.posted == []

        # the Bot Framework Emulator, for a local trial: allowed only with teams.unauthenticated
        activity = message("help", sender=ANA, service_url=connector.url)
        activity["channelId"] = "emulator"
        assert (await http.post(f"{url}/api/messages", json=activity)).status in (200, 201)
        assert "Partnerbot verbs" in (await connector.wait_for("a:personal-aad-ana"))[0].fallback


async def test_a_forged_service_url_is_a_403_and_the_victims_stored_contact_still_reaches_her(schema_url, connector):
    attacker = await FakeConnector().start()  # as reachable as the real one: only the check stops it
    try:
        env = {**TEAMS_ON_LOOPBACK, "PARTNERBOT_TEAMS__SERVICE_URL_HOSTS": "127.0.0.1"}
        async with serving(schema_url, env) as (bot, url, http):
            for activity in (message("help", sender=MARIA, service_url=connector.url, channel=True),
                             message("help", sender=MARIA, service_url=connector.url)):  # her contact: the 1:1 chat
                assert (await http.post(f"{url}/api/messages", json=activity)).status in (200, 201)
            await connector.wait_for("a:personal-aad-maria")
            await connector.wait_for("19:channel@thread.tacv2")
            before, posted = await people(bot.db), len(connector.posted)
            contacts = [(i.external_id, i.contact) for i in await rows(bot.db, Identity)]
            channels = [c.contact for c in await rows(bot.db, ChannelContact)]

            forged = [f"http://localhost:{attacker.port}/", "https://attacker.example/", "http://attacker.example/",
                      f"http://maria@127.0.0.1:{attacker.port}/", f"http://127.0.0.1:{attacker.port}\\@attacker.example/",
                      "https://127.0.0.1.attacker.example/"]
            for service_url in forged:
                for channel in (False, True):
                    activity = message("list", sender=MARIA, service_url=service_url, channel=channel)
                    response = await http.post(f"{url}/api/messages", json=activity)
                    assert response.status == 403, service_url
                    assert "serviceUrl" in (await response.json())["error"]
            assert await people(bot.db) == before and len(connector.posted) == posted and attacker.posted == []
            assert [(i.external_id, i.contact) for i in await rows(bot.db, Identity)] == contacts
            assert [c.contact for c in await rows(bot.db, ChannelContact)] == channels

            # what is owed to Maria still goes where she really is
            activity = message("handoff <at>Maria</at> Acme Corp: needs a review", sender=ANA,
                               service_url=connector.url, entities=[mention(MARIA)])
            assert (await http.post(f"{url}/api/messages", json=activity)).status in (200, 201)
            offer = (await connector.wait_for("a:personal-aad-maria", 2))[1]
            assert "handed you H-1" in offer.fallback and attacker.posted == []
    finally:
        await attacker.stop()


async def test_a_service_url_must_be_https_unless_it_is_on_loopback(schema_url, connector):
    env = {**TEAMS_ON_LOOPBACK, "PARTNERBOT_TEAMS__SERVICE_URL_HOSTS": "127.0.0.1,connector.example"}
    async with serving(schema_url, env) as (bot, url, http):
        before = await people(bot.db)
        response = await http.post(f"{url}/api/messages",
                                   json=message("list", sender=ANA, service_url="http://connector.example/"))
        assert response.status == 403 and "https" in (await response.json())["error"]
        assert await people(bot.db) == before


async def test_a_stored_contact_whose_host_left_the_allow_list_is_not_sent_to(schema_url, connector, caplog):
    async with serving(schema_url, TEAMS_ON_LOOPBACK) as (_, url, http):  # Maria talks via 127.0.0.1
        response = await http.post(f"{url}/api/messages",
                                   json=message("help", sender=MARIA, service_url=connector.url))
        assert response.status in (200, 201)
        await connector.wait_for("a:personal-aad-maria")

    # the operator narrows the allow-list; Ana's Teams now names the connector as localhost
    env = {**TEAMS_ON_LOOPBACK, "PARTNERBOT_TEAMS__SERVICE_URL_HOSTS": "localhost"}
    async with serving(schema_url, env) as (bot, url, http):
        activity = message("handoff <at>Maria</at> Acme Corp: needs a review", sender=ANA,
                           service_url=f"http://localhost:{connector.port}/", entities=[mention(MARIA)])
        assert (await http.post(f"{url}/api/messages", json=activity)).status in (200, 201)
        assert "H-1 handed to Maria" in (await connector.wait_for("a:personal-aad-ana"))[0].fallback
        for _ in range(100):  # the outbox sender runs in the app, woken by the handoff
            (owed,) = await rows(bot.db, OutboxMessage)
            if owed.status == "failed":
                break
            await asyncio.sleep(0.1)
    assert owed.status == "failed"
    assert "serviceUrl host 127.0.0.1 is not in teams.service_url_hosts" in owed.last_error
    assert len(connector.to("a:personal-aad-maria")) == 1  # only the answer to her `help`, long before
    assert any("undeliverable" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records)


async def test_a_tenant_off_the_allow_list_is_a_403_and_creates_no_workspace_or_person(schema_url, connector):
    env = {**TEAMS_ON_LOOPBACK, "PARTNERBOT_TEAMS__TENANTS": "contoso-tenant"}
    async with serving(schema_url, env) as (bot, url, http):
        installed = {**message(None, sender=ANA, service_url=connector.url), "type": "conversationUpdate",
                     "membersAdded": [ANA]}
        for activity in (message("help", sender=ANA, service_url=connector.url), installed):  # tenant-1
            response = await http.post(f"{url}/api/messages", json=activity)
            assert (response.status, await response.json()) == (403, {"error": "tenant is not in teams.tenants"})
        assert await count(bot.db, Workspace) == await count(bot.db, Person) == 0 and connector.posted == []

        allowed = message("help", sender=ANA, service_url=connector.url)
        allowed["conversation"]["tenantId"] = allowed["channelData"]["tenant"]["id"] = "contoso-tenant"
        assert (await http.post(f"{url}/api/messages", json=allowed)).status in (200, 201)
        assert [w.external_id for w in await rows(bot.db, Workspace)] == ["contoso-tenant"]


async def test_pathologically_nested_json_is_a_400_and_the_server_carries_on(schema_url, connector, caplog):
    caplog.set_level(logging.INFO)
    async with serving(schema_url, TEAMS_ON_LOOPBACK) as (bot, url, http):
        before = await people(bot.db)
        deep_value = message("help", sender=ANA, service_url=connector.url)
        deep_value["value"] = json.loads("[" * 500 + "]" * 500)  # parses, but no activity is that deep
        for body in ("[" * 200_000, '{"a":' * 200_000, json.dumps(deep_value)):
            response = await http.post(f"{url}/api/messages", data=body, headers={"Content-Type": "application/json"})
            assert (response.status, await response.json()) == (400, {"error": "JSON nested too deeply"})
        assert await people(bot.db) == before and connector.posted == []
        assert (await http.get(f"{url}/healthz")).status == 200
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_healthz_says_whether_teams_is_on_and_nothing_about_its_authentication(schema_url):
    async with serving(schema_url, APP_ID) as (_, url, http):
        text = await (await http.get(f"{url}/healthz")).text()
    assert json.loads(text) == {"ok": True, "slack": False, "teams": True} and "auth" not in text
    async with serving(schema_url, TEAMS_ON_LOOPBACK) as (_, url, http):
        health = await (await http.get(f"{url}/healthz")).json()
    assert health == {"ok": True, "slack": False, "teams": "unauthenticated"}


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://smba.trafficmanager.net/amer/", True),
    ("https://smba.infra.gcc.teams.microsoft.com/teams", True),
    ("https://europe.webchat.botframework.com/", True),
    ("https://botframework.com/", False),  # `*.x` is x's subdomains, not x
    ("https://evilbotframework.com/", False),
    ("https://botframework.com.attacker.example/", False),
    ("https://SMBA.TrafficManager.net/emea/", True),
    ("https://smba.trafficmanager.net.", False),
    ("http://smba.trafficmanager.net/amer/", False),  # https only
    ("https://smba.trafficmanager.net@attacker.example/", False),
    ("https://smba.trafficmanager.net/amer/?next=x", False),
    ("http://127.0.0.1:3979/", False),  # loopback only when listed
])
def test_the_default_allow_list_is_microsofts_hosts(url, allowed):
    assert (ServiceUrls(MICROSOFT_HOSTS).refusal(url) is None) == allowed


def test_list_settings_come_from_yaml_or_comma_separated_from_the_environment(tmp_path):
    config = tmp_path / "app.yaml"
    config.write_text("teams:\n  service_url_hosts: [smba.trafficmanager.net, '*.Botframework.com']\n  tenants:\n")
    from_yaml = load_settings({"PARTNERBOT_CONFIG": str(config)}).teams
    assert from_yaml.service_url_hosts == ("smba.trafficmanager.net", "*.botframework.com") and from_yaml.tenants == ()
    from_env = load_settings({"PARTNERBOT_TEAMS__SERVICE_URL_HOSTS": " 127.0.0.1, ,localhost ",
                              "PARTNERBOT_TEAMS__TENANTS": "t1,t2"}).teams
    assert from_env.service_url_hosts == ("127.0.0.1", "localhost") and from_env.tenants == ("t1", "t2")
    for bad in ("https://smba.trafficmanager.net/", "*", "*.com", "host:443"):
        with pytest.raises(ConfigError, match="teams.service_url_hosts"):
            load_settings({"PARTNERBOT_TEAMS__SERVICE_URL_HOSTS": bad})
