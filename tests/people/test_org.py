"""`partnerbot org import` / `org export`: an admin's manager links in bulk, through the real
command; and the migration that brings the links set before this rule along."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from storage.db import Database
from storage.migrate import upgrade
from storage.models import ActivityLog, OutboxMessage, Partnership
from tests.conftest import Chat, database_url
from tests.helpers import person_named, rows, snapshot
from tests.spawn import clean_env, start

pytestmark = pytest.mark.process


async def _people(db, settings, clock, *users: str) -> None:
    """People the bot has seen on Slack workspace T1 (an org file names only those)."""
    slack = Chat(Dispatcher(db, settings, default_registry(), clock), platform="slack", workspace="T1")
    for user in users:
        assert (await slack.say(user, "timezone Europe/Berlin")).ok


async def _partnerbot(tmp_path, db_url, *args: str) -> tuple[int, str]:
    process = await start(*args, cwd=tmp_path, env=clean_env(DATABASE_URL=db_url))
    out, _ = await process.communicate()
    return process.returncode, out.decode()


async def test_an_org_file_sets_managers_reports_what_changed_and_tells_those_concerned(tmp_path, db, db_url,
                                                                                     settings, clock):
    await _people(db, settings, clock, "maria", "bob", "ana", "dana")
    (tmp_path / "org.csv").write_text("platform,workspace,user_id,manager_user_id\n"
                                      "slack,T1,maria,ana\nslack,T1,bob,ana\nslack,T1,ana,dana\n")
    code, out = await _partnerbot(tmp_path, db_url, "org", "import", "org.csv")
    assert code == 0, out
    assert "line 2: maria → ana" in out and "3 manager link(s) changed" in out
    maria, bob, ana, dana = [await person_named(db, n) for n in ("maria", "bob", "ana", "dana")]
    assert (maria.manager_id, bob.manager_id, ana.manager_id) == (ana.id, ana.id, dana.id)
    assert {m.recipient_person_id for m in await rows(db, OutboxMessage)} == {maria.id, bob.id, ana.id, dana.id}
    assert [a.platform for a in await rows(db, ActivityLog, ActivityLog.action == "person.manager_set")] == ["cli"] * 3

    # a second file moves bob: he, ana (before) and dana (now) are told; export shows the chart
    (tmp_path / "move.csv").write_text("slack,T1,bob,dana\n")
    code, out = await _partnerbot(tmp_path, db_url, "org", "import", "move.csv")
    assert code == 0 and "line 1: bob → dana (was ana)" in out
    code, out = await _partnerbot(tmp_path, db_url, "org", "export")
    assert code == 0
    assert out.splitlines() == ["platform,workspace,user_id,manager_user_id,email", "slack,T1,ana,dana,",
                                "slack,T1,bob,dana,", "slack,T1,maria,ana,"]


async def test_an_org_files_email_column_maps_reps_to_their_crm_users(tmp_path, db, db_url, settings, clock):
    await _people(db, settings, clock, "maria", "ana", "dana")
    (tmp_path / "org.csv").write_text("platform,workspace,user_id,manager_user_id,email\n"
                                      "slack,T1,maria,ana,maria@acme.example\n"
                                      "slack,T1,dana,,dana@acme.example\n")  # dana: only her email
    code, out = await _partnerbot(tmp_path, db_url, "org", "import", "org.csv")
    assert code == 0, out
    assert "1 manager link(s) changed, 2 email(s) set" in out and "line 3: dana's email is dana@acme.example" in out
    maria, dana = await person_named(db, "maria"), await person_named(db, "dana")
    async with db.transaction() as store:
        assert await store.emails_of([maria.id, dana.id]) == {maria.id: "maria@acme.example",
                                                              dana.id: "dana@acme.example"}
    code, out = await _partnerbot(tmp_path, db_url, "org", "export")
    assert out.splitlines()[1:] == ["slack,T1,maria,ana,maria@acme.example"]
    # a bad address is refused with the rest of the file
    before = await snapshot(db)
    (tmp_path / "bad.csv").write_text("slack,T1,ana,dana,ana@acme.example\nslack,T1,maria,ana,maria at acme\n")
    code, out = await _partnerbot(tmp_path, db_url, "org", "import", "bad.csv")
    assert code == 1 and "line 2: 'maria at acme' is not an email address" in out
    assert await snapshot(db) == before


async def test_an_org_file_with_an_unknown_person_or_a_cycle_changes_nothing(tmp_path, db, db_url, settings, clock):
    await _people(db, settings, clock, "maria", "ana", "dana")
    (tmp_path / "ok.csv").write_text("slack,T1,ana,dana\n")
    assert (await _partnerbot(tmp_path, db_url, "org", "import", "ok.csv"))[0] == 0
    before = await snapshot(db)
    managers = {n: (await person_named(db, n)).manager_id for n in ("maria", "ana", "dana")}
    for name, content, refusal in (
        ("unknown.csv", "slack,T1,maria,ana\nslack,T1,ghost,ana\n", "line 2: nobody known as slack:T1:ghost"),
        ("cycle.csv", "slack,T1,maria,ana\nslack,T1,dana,maria\n", "cycle: "),
        ("twice.csv", "slack,T1,maria,ana\nslack,T1,maria,dana\n", "maria already has a manager on line 1"),
        ("columns.csv", "slack,T1,maria\n", "expected 4 or 5 columns"),
    ):
        (tmp_path / name).write_text(content)
        code, out = await _partnerbot(tmp_path, db_url, "org", "import", name)
        assert code == 1 and refusal in out and "nothing was changed" in out.lower(), out
    assert await snapshot(db) == before
    assert {n: (await person_named(db, n)).manager_id for n in ("maria", "ana", "dana")} == managers
    code, out = await _partnerbot(tmp_path, db_url, "org", "import", "missing.csv")
    assert code == 1 and "cannot read missing.csv" in out


async def test_the_migration_keeps_links_and_partnerships_made_before_the_rule(tmp_path):
    """A database at 0009 (before consent): its partnerships count as accepted, its manager
    links stay, and `org export` lists them."""
    async with database_url("sqlite", tmp_path) as url:
        database = Database(url)
        try:
            await upgrade(database, "0009")
            at = datetime(2026, 11, 2, 9, tzinfo=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
            async with database.engine.begin() as conn:
                for statement in (
                    "INSERT INTO workspace (id, platform, external_id, created_at) VALUES (1, 'slack', 'T1', :at)",
                    "INSERT INTO person (id, workspace_id, display_name, created_at) VALUES (1, 1, 'ana', :at)",
                    "INSERT INTO person (id, workspace_id, display_name, manager_id, created_at) "
                    "VALUES (2, 1, 'maria', 1, :at)",
                    "INSERT INTO identity (workspace_id, person_id, platform, external_id) VALUES (1, 1, 'slack', 'UA')",
                    "INSERT INTO identity (workspace_id, person_id, platform, external_id) VALUES (1, 2, 'slack', 'UM')",
                    "INSERT INTO partnership (id, workspace_id, number, name, name_key, created_by_id, created_at, "
                    "charter_version) VALUES (1, 1, 1, 'Acme', 'acme', 1, :at, 1)",
                ):
                    await conn.execute(text(statement), {"at": at})
            await upgrade(database)
            (p,) = await rows(database, Partnership)
            assert p.status == "active" and p.accepted_at == p.created_at
        finally:
            await database.dispose()
        code, out = await _partnerbot(tmp_path, url, "org", "export")
        assert code == 0 and "slack,T1,UM,UA," in out.splitlines()
