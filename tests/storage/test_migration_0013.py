"""Migration 0013 gives a handoff the markers of its `by` date's reminder and overdue notice:
a handoff made before it is kept as it was, with neither sent."""
from datetime import date, datetime, timezone

from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Handoff
from tests.helpers import rows

NOW = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)
STORED_NOW = NOW.replace(tzinfo=None)  # as a UTC column keeps it, for rows inserted as SQL


async def test_a_handoff_made_before_keeps_its_fields_and_has_neither_notice_sent(db_url):
    db = Database(db_url)
    try:
        await upgrade(db, "0012")
        async with db.session() as s:  # the tables as they are at 0012, not as the models are now
            await s.exec(text("INSERT INTO workspace (id, platform, external_id, created_at) "
                              "VALUES (1, 'slack', 'T1', :now)"), params={"now": STORED_NOW})
            for person_id, name in ((1, "ana"), (2, "bob")):
                await s.exec(text("INSERT INTO person (id, workspace_id, display_name, created_at) "
                                  "VALUES (:id, 1, :name, :now)"),
                             params={"id": person_id, "name": name, "now": STORED_NOW})
            await s.exec(text(
                "INSERT INTO handoff (id, workspace_id, number, from_id, to_id, account, need, due_date, stage, "
                "stage_changed_at, accepted_at, created_at) VALUES (1, 1, 3, 1, 2, 'Acme Corp', 'a review', :due, "
                "'positioned', :now, :now, :now)"), params={"due": date(2026, 11, 27), "now": STORED_NOW})
            await s.commit()

        await upgrade(db)

        (h,) = await rows(db, Handoff)
        assert (h.ref, h.from_id, h.to_id, h.account, h.need, h.due_date, h.stage, h.accepted_at) == (
            "H-3", 1, 2, "Acme Corp", "a review", date(2026, 11, 27), "positioned", NOW)
        assert (h.due_reminded_at, h.overdue_notified_at) == (None, None)
    finally:
        await db.dispose()
