"""The weekly prompts of a page of series at once (fanout.prompt_page) write exactly what the
one-at-a-time path (jobs.run_series) writes for the same partnerships: the same syncs, parts,
claims, log rows and messages, and the series move on the same way."""
from __future__ import annotations

from datetime import datetime, timezone

from handlers import default_registry
from handlers.kernel.context import JobContext
from handlers.kernel.dispatch import Dispatcher
from handlers.peer_sync.fanout import prompt_page
from handlers.peer_sync.jobs import run_series
from storage.models import ActivityLog, Claim, OutboxMessage, PeerSync, SyncAnswer, SyncSeries
from tests.conftest import BACKEND, FixedClock, database_url, migrated
from tests.helpers import rows

UTC = timezone.utc
MONDAY_0900_UTC = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # also 09:00 in London, 10:00 in Berlin


async def build(db, settings) -> None:
    """Partnerships of every shape the page meets: managers on one clock and on two, a week's
    sync opened already by one manager (`sync now`), a partnership with reps, one answered."""
    clock = FixedClock()  # Mon 23 Nov 10:00 UTC
    chat = Dispatcher(db, settings, default_registry(), clock)

    async def say(user: str, text: str, **kw):
        from handlers.kernel.model import Command

        reply = await chat.dispatch(Command(platform="console", workspace="acme", user=user, user_name=user,
                                            text=text, **kw))
        assert reply.ok, reply.text
        return reply

    for n in range(1, 7):
        await say(f"ana{n}", f"partnership new Alliance {n} with <@dana{n}|dana{n}>", channel=f"C{n}")
        await say(f"dana{n}", f"partnership P-{n} accept")
    await say("dana2", "timezone Europe/London")  # same 09:00 UTC in winter: due in the same page
    await say("ana3", "timezone Europe/Berlin")  # 08:00 UTC: due too, on another clock
    await say("ana4", "partnership P-4 add <@rita|rita>")
    await say("rita", "partnership P-4 accept")
    clock.now = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    await say("ana5", "sync now P-5")  # S-n of week 49 open before the tick; ana5 has its form
    await say("ana6", "sync now P-6")
    await say("ana6", "sync submit S-2", form_values={"results": "two wins", "commit": "call Initech"})


def _sorted(tuples) -> list:
    return sorted(tuples, key=repr)  # None and numbers side by side


async def written(db) -> dict:
    """What the prompts wrote, without the ids the database gave (each path numbers the same)."""
    syncs = await rows(db, PeerSync)
    week_of = {s.id: (s.partnership_id, s.week) for s in syncs}
    return {
        "syncs": _sorted((s.partnership_id, s.week, s.number, s.opened_at, s.deadline_at, s.pledges_due_at, s.digest_at)
                        for s in syncs),
        "parts": _sorted((week_of[a.peer_sync_id], a.person_id, a.side, a.prompted_at, a.answered_at)
                        for a in await rows(db, SyncAnswer)),
        "claims": _sorted((c.key, c.at) for c in await rows(db, Claim)),
        "log": _sorted((e.workspace_id, e.at, e.person_id, e.platform, e.action, e.record, repr(e.before), repr(e.after))
                      for e in await rows(db, ActivityLog)),
        "messages": _sorted((m.idempotency_key, m.platform, m.recipient_person_id, m.channel, repr(m.payload), m.status,
                            m.next_attempt_at) for m in await rows(db, OutboxMessage)),
        "series": _sorted((s.partnership_id, s.person_id, s.next_run_at, s.timezone) for s in await rows(db, SyncSeries)),
    }


async def test_a_page_of_prompts_writes_what_one_series_at_a_time_writes(tmp_path, settings):
    (tmp_path / "page").mkdir()
    (tmp_path / "one").mkdir()
    async with database_url(BACKEND, tmp_path / "page", schema=True) as page_url, \
            database_url(BACKEND, tmp_path / "one", schema=True) as one_url, \
            migrated(page_url) as by_page, migrated(one_url) as one_by_one:
        for db in (by_page, one_by_one):
            await build(db, settings)
        assert await written(by_page) == await written(one_by_one)  # the same start

        async with by_page.transaction() as store:
            due = [item for _, item in await store.due_series(MONDAY_0900_UTC)]
        assert len(due) == 12  # every manager of the six partnerships

        async with by_page.transaction() as store:
            acted, left = await prompt_page(JobContext(store, MONDAY_0900_UTC, settings), due)
        assert left == []  # the page did all of it itself
        acted_one_by_one = 0
        for series_id in due:
            async with one_by_one.transaction() as store:
                acted_one_by_one += await run_series(JobContext(store, MONDAY_0900_UTC, settings), series_id)

        # every series but those of P-5 and P-6, whose managers had their prompt or form already
        assert acted == acted_one_by_one == 8
        page, one = await written(by_page), await written(one_by_one)
        assert page == one
        # and they did write: week 49's syncs of all six, a prompt to each manager not yet answered
        assert len([s for s in page["syncs"] if s[1] == "2026-W49"]) == 6
        # one to each manager: by the tick, or by `sync now` to dana5 and dana6 (ana5 and ana6 had the form)
        assert len([m for m in page["messages"] if m[0].startswith("sync.prompt:")]) == 10
