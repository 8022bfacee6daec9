"""commit / done / drop / list through the dispatcher, on a real database with a fixed clock."""
from datetime import datetime, timedelta, timezone

import pytest

from storage.models import ActivityLog, Commitment
from tests.helpers import assert_refused_without_change, outbox, person_named, rows


async def test_commit_names_the_reference_and_the_due_date_in_the_callers_timezone(chat, db):
    await chat.say("ana", "timezone Europe/Berlin")
    reply = await chat.say("ana", "commit send pricing deck to Acme by fri")
    assert reply.ok
    assert "C-1" in reply.text and "Fri 27 Nov 17:00 (Europe/Berlin)" in reply.text
    (c,) = await rows(db, Commitment)
    assert c.what == "send pricing deck to Acme"
    assert c.due_at == datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)  # 17:00 Berlin


async def test_the_platform_profile_timezone_is_used_until_the_person_sets_one(chat, db):
    reply = await chat.say("ana", "commit call Acme by tomorrow", platform_timezone="America/New_York")
    assert "Tue 24 Nov 17:00 (America/New_York)" in reply.text


async def test_references_are_numbered_per_workspace(chat):
    assert "C-1" in (await chat.say("ana", "commit a by fri")).text
    assert "C-2" in (await chat.say("bob", "commit b by fri")).text
    chat.workspace = "globex"
    assert "C-1" in (await chat.say("ana", "commit c by fri")).text


async def test_re_links_an_account_or_a_handoff_and_keeps_re_inside_what_is_said(chat, db):
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review")
    await chat.say("ana", "commit look re pricing by fri re Acme Corp")
    await chat.say("ana", "commit book the review by fri re h1")
    first, second = await rows(db, Commitment)
    assert (first.what, first.account) == ("look re pricing", "Acme Corp")
    assert second.handoff_id is not None and second.account == "Acme Corp"


async def test_done_on_time_and_late(chat, clock):
    await chat.say("ana", "commit a by today")
    await chat.say("ana", "commit b by today")
    assert "kept (on time)" in (await chat.say("ana", "done C-1")).text
    clock.now += timedelta(hours=8)  # 18:00 UTC, past 17:00
    assert "kept (late)" in (await chat.say("ana", "done c2 finally")).text


async def test_drop_needs_a_reason_and_records_it(chat, db):
    await chat.say("ana", "commit a by fri")
    refused = await chat.say("ana", "drop C-1")
    assert not refused.ok and "reason" in refused.text
    reply = await chat.say("ana", "drop #C-1 customer paused")
    assert reply.ok and "C-1 dropped" in reply.text
    (c,) = await rows(db, Commitment)
    assert (c.status, c.close_note) == ("dropped", "customer paused")
    log = await rows(db, ActivityLog, ActivityLog.action == "commitment.dropped")
    assert log[0].before["status"] == "open" and log[0].after["status"] == "dropped"


async def test_a_manager_may_assign_a_commitment_and_the_owner_is_told(chat, db):
    await chat.say("bob", "help")  # bob exists
    await chat.say("ana", "help")
    bob, ana = await person_named(db, "bob"), await person_named(db, "ana")
    async with db.session() as s:
        bob = await s.get(type(bob), bob.id)
        bob.manager_id = ana.id
    reply = await chat.say("ana", "commit send the case study by fri to <@bob> re Acme")
    assert reply.ok and "C-1 saved for bob" in reply.text
    (c,) = await rows(db, Commitment)
    assert c.owner_id == bob.id and c.created_by_id == ana.id
    (message,) = await outbox(db)
    assert message.recipient_person_id == bob.id and "C-1" in message.payload["text"]
    assert "C-1" in (await chat.say("ana", "done C-1")).text  # the manager may close it too


@pytest.mark.parametrize("command, reason", [
    ("commit send deck", "needs a date"),
    ("commit send deck by 2026-11-01", "in the past"),
    ("commit send deck by someday soon", "'someday soon' is not a date I can read; try YYYY-MM-DD"),
    ("commit send deck by legal", "needs a date"),
    ("commit by fri", "Say what you will do before `by`"),
    ("commit send deck by fri re H-9", "no handoff H-9"),
    ("commit send deck by fri re L-2", "no lead L-2"),
    ("commit send deck by fri re M-2", "no M-2"),
    ("commit send deck by fri to <@ana>", "Only ana's manager"),
    ("done C-7", "no commitment C-7"),
    ("done X-1", "not a commitment reference"),
    ("done", "which commitment"),
    ("done C-1", "belongs to ana"),
    ("drop C-1 no longer needed", "belongs to ana"),
    ("frobnicate C-1", "don't know the verb"),
    ("list nonsense", "can't list"),
    ("timezone Mars/Olympus", "not a timezone"),
])
async def test_bad_input_gets_a_reason_and_changes_nothing(chat, db, command, reason):
    await chat.say("ana", "commit a by fri")
    await assert_refused_without_change(chat, db, "bob", command, reason)


async def test_a_closed_commitment_cannot_be_closed_again(chat):
    await chat.say("ana", "commit a by fri")
    await chat.say("ana", "done C-1")
    reply = await chat.say("ana", "drop C-1 oops")
    assert not reply.ok and "already kept" in reply.text


async def test_a_foreign_workspaces_reference_is_unknown(chat):
    await chat.say("ana", "commit a by fri")
    chat.workspace = "globex"
    reply = await chat.say("ana", "done C-1")
    assert not reply.ok and "no commitment C-1" in reply.text


async def test_list_shows_open_items_soonest_due_first(chat, clock):
    await chat.say("ana", "commit later thing by next week")
    await chat.say("ana", "commit sooner thing by tomorrow")
    await chat.say("ana", "commit kept thing by fri")
    await chat.say("ana", "done C-3")
    await chat.say("ana", "handoff <@bob> Acme Corp: needs a security review by fri")
    await chat.say("bob", "commit bob's thing by fri re Acme Corp")
    mine = (await chat.say("ana", "list")).text
    assert mine.index("C-2") < mine.index("C-1")
    assert "C-3" not in mine and "H-1" in mine and "C-4" not in mine
    assert (await chat.say("ana", "admin manager <@bob> <@ana>")).ok  # `list @person`: them and their managers
    assert "C-4" in (await chat.say("ana", "list <@bob>")).text
    account = (await chat.say("ana", "list account acme")).text
    assert "C-4" in account and "H-1" in account and "C-1" not in account
    clock.now += timedelta(days=1, hours=8)  # Tue 18:00 UTC: C-2 (due Tue 17:00) is overdue
    overdue = (await chat.say("ana", "list overdue")).text
    assert "C-2" in overdue and "C-1" not in overdue


async def test_empty_list_says_so(chat):
    assert "nothing open" in (await chat.say("ana", "list mine")).text


async def test_help_lists_every_verb_and_explains_one_with_examples(chat):
    everything = (await chat.say("ana", "help")).text
    for verb in ("commit", "done", "drop", "handoff", "list", "timezone", "help"):
        assert f"\n{verb} " in everything
    one = (await chat.say("ana", "help commit")).text
    assert "commit send pricing deck to Acme by fri" in one and "Examples" in one
    assert not (await chat.say("ana", "help nonsense")).ok


async def test_a_refused_first_command_in_a_new_workspace_does_not_break_the_next(chat):
    chat.workspace = "newco"
    assert not (await chat.say("ana", "commit no date")).ok
    assert "C-1 saved" in (await chat.say("ana", "commit a by fri")).text
