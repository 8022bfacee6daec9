"""The installation and OAuth state stores bolt uses, on the project's database (SQLite, and
PostgreSQL with PARTNERBOT_TEST_BACKEND=postgres): workspace and Enterprise Grid org-wide
installs found as bolt asks for them; a state good once, for ten minutes."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from slack_sdk.oauth.installation_store import Installation

from adapters.slack.installations import DatabaseInstallationStore, DatabaseOAuthStateStore
from storage.installations import SlackInstallations
from storage.models import SlackInstallation
from tests.helpers import rows


def _installation(team: str | None, token: str, *, enterprise: str | None = None, org: bool = False,
                  user: str = "UADMIN") -> Installation:
    return Installation(app_id="A1", enterprise_id=enterprise, team_id=team, bot_token=token, bot_id="B1",
                        bot_user_id="UBOT", bot_scopes="commands,chat:write", user_id=user, is_enterprise_install=org)


async def test_workspace_and_org_wide_installs_are_found_as_bolt_asks(db, clock):
    changed: list[str | None] = []
    store = DatabaseInstallationStore(SlackInstallations(db, clock), on_change=changed.append)
    await store.async_save(_installation("T1", "xoxb-t1"))
    await store.async_save(_installation("T2", "xoxb-t2", enterprise="E9"))  # a workspace of an org, installed alone
    await store.async_save(_installation(None, "xoxb-org", enterprise="E1", org=True))
    assert changed == ["T1", "T2", None]

    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert (found.bot_token, found.bot_scopes, found.user_id) == ("xoxb-t1", ["commands", "chat:write"], "UADMIN")
    assert (await store.async_find_bot(enterprise_id="E9", team_id="T2")).bot_token == "xoxb-t2"
    # a request from workspace T5 of org E1, installed org-wide: bolt asks with both ids
    org = await store.async_find_installation(enterprise_id="E1", team_id="T5", is_enterprise_install=True)
    assert (org.bot_token, org.enterprise_id, org.team_id, org.is_enterprise_install) == ("xoxb-org", "E1", None, True)
    assert (await store.async_find_bot(enterprise_id="E1", team_id=None, is_enterprise_install=True)).bot_token == \
        "xoxb-org"
    assert await store.async_find_installation(enterprise_id="E1", team_id="T5") is None  # not installed in T5 itself
    assert await store.async_find_installation(enterprise_id=None, team_id="T3") is None
    # the installer's own installation; another user has none (we keep no user tokens)
    assert await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="UADMIN") is not None
    assert await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="U2") is None

    # the outbox knows a team id only: T5's org must have been seen first
    assert await store.bot_token_of("T1") == "xoxb-t1"
    assert await store.bot_token_of("T5") is None
    await store.records.note_org_team("T5", "E1")
    assert await store.bot_token_of("T5") == "xoxb-org"


async def test_a_reinstall_replaces_the_workspaces_installation_and_an_uninstall_removes_it(db, clock):
    changed: list[str | None] = []
    store = DatabaseInstallationStore(SlackInstallations(db, clock), on_change=changed.append)
    await store.async_save(_installation("T1", "xoxb-old"))
    await store.async_save(_installation("T1", "xoxb-new", user="U2"))
    (row,) = await rows(db, SlackInstallation)
    assert (row.team_id, row.enterprise_id, row.bot_token, row.user_id) == ("T1", "", "xoxb-new", "U2")
    await store.async_delete_all(enterprise_id=None, team_id="T1")
    assert await rows(db, SlackInstallation) == []
    assert changed == ["T1", "T1", "T1"]
    await store.async_delete_all(enterprise_id=None, team_id="T1")  # nothing left: nothing to tell
    assert changed == ["T1", "T1", "T1"]


async def test_two_installs_of_one_workspace_at_once_leave_one(db, clock):
    store = DatabaseInstallationStore(SlackInstallations(db, clock))
    await asyncio.gather(*(store.async_save(_installation("T1", f"xoxb-{n}")) for n in range(5)))
    assert len(await rows(db, SlackInstallation)) == 1


async def test_a_state_is_good_once_and_for_ten_minutes(db, clock):
    states = DatabaseOAuthStateStore(SlackInstallations(db, clock))
    first, second = await states.async_issue(), await states.async_issue()
    assert first != second and len(first) >= 40
    assert await states.async_consume(first)
    assert not await states.async_consume(first)  # replayed
    assert not await states.async_consume("forged")
    assert not await states.async_consume("")
    clock.now += timedelta(minutes=10)
    assert not await states.async_consume(second)  # expired


async def test_a_state_redirected_twice_at_once_installs_once(db, clock):
    states = DatabaseOAuthStateStore(SlackInstallations(db, clock))
    state = await states.async_issue()
    assert sorted(await asyncio.gather(*(states.async_consume(state) for _ in range(4)))) == [False] * 3 + [True]


def test_the_manifest_declares_the_redirect_url_and_the_events_handled():
    from pathlib import Path

    import yaml

    from adapters.slack.oauth import MANIFEST, REDIRECT_PATH, bot_scopes

    manifest = yaml.safe_load(Path(MANIFEST).read_text())
    assert manifest["oauth_config"]["redirect_urls"] == [f"https://YOUR-HOST{REDIRECT_PATH}"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "app_uninstalled", "tokens_revoked"}
    assert "commands" in bot_scopes() and "chat:write" in bot_scopes()
