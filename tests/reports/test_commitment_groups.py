"""`report P-n` has a partnership's commitments placed among the weeks of its window and counted
(ReportQueries.commitment_groups: by PostgreSQL in SQL, on SQLite in Python on the stored text;
then metrics.counted_figures); the dashboard and a person's scorecard count records
(metrics.commitment_figures). Both must say the same, week by week, even of an instant that falls
exactly on a week's bound."""
from __future__ import annotations

from handlers.partnerships.service import between_sides
from handlers.reports import metrics
from storage.models import Commitment, Partnership
from tests.helpers import rows
from tests.reports.test_report import REPORT_AT, history


async def test_a_partnerships_commitments_counted_in_groups_say_what_its_records_say(bot, db):
    await history(bot)
    [p] = await rows(db, Partnership)
    instants = {x for c in await rows(db, Commitment) for x in (c.created_at, c.due_at, c.closed_at) if x}
    # windows that put each instant on each of their bounds: a week's first instant, or `now`
    nows = sorted({x + k * metrics.WEEK for x in instants for k in range(metrics.WEEKS + 1)} | {REPORT_AT})
    said = {}
    async with db.transaction() as store:
        scope = between_sides(p, await store.members(p.id))
        for now in nows:
            window = metrics.Window(now)
            read = metrics.commitment_figures(await store.report_commitments(scope, window.start), window)
            counted = metrics.counted_figures(await store.commitment_groups(scope, window.starts, now), window)
            assert counted == read, f"window ending {now}"
            said[now] = counted
    at_report = said[REPORT_AT]  # what `report P-1` says there (test_read_model.py)
    assert (at_report.kept.hits, at_report.kept.total) == (2, 5)
    assert at_report.overdue == metrics.Tally(2, (0, 1, 1, 1, 2, 2, 2, 2))  # C-4 and C-8
    assert sum(1 for f in said.values() if f.overdue.total and f.kept.total) > len(said) / 3
