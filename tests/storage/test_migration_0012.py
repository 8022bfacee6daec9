"""Migration 0012 folds the Teams twins made before it: a rep mentioned by her 29:… id (a person
of her own, with the handoff to her and the message waiting for her) and the same rep who wrote
(keyed by AAD object id, her 29:… id in the stored conversation reference) become one."""
from datetime import date, datetime, timezone

from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import ActivityLog, Handoff, Identity, OutboxMessage, Person, Workspace
from tests.helpers import rows

NOW = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)
STORED_NOW = NOW.replace(tzinfo=None)  # as a UTC column keeps it, for rows inserted as SQL
REFERENCE = {"user": {"id": "29:aad-megan", "name": "Megan Bowen", "aadObjectId": "aad-megan"},
             "conversation": {"id": "a:personal-aad-megan", "conversationType": "personal"},
             "serviceUrl": "https://smba.trafficmanager.net/emea/", "channelId": "msteams"}


async def test_a_mentioned_twin_is_folded_into_the_person_who_wrote(db_url):
    db = Database(db_url)
    try:
        await upgrade(db, "0011")
        async with db.session() as s:
            s.add(Workspace(id=1, platform="teams", external_id="tenant-1", created_at=NOW))
            await s.flush()
            s.add_all([Person(id=1, workspace_id=1, display_name="Jonas", created_at=NOW),
                       Person(id=2, workspace_id=1, display_name="Megan Bowen", created_at=NOW),  # who wrote
                       Person(id=3, workspace_id=1, display_name="Megan B.", timezone="Europe/Berlin",
                              manager_id=1, created_at=NOW)])  # met by mention
            await s.flush()
            insert = text("INSERT INTO identity (id, workspace_id, person_id, platform, external_id, contact) "
                          "VALUES (:id, 1, :person, 'teams', :external, :contact)")
            for row in ({"id": 1, "person": 1, "external": "aad-jonas", "contact": None},
                        {"id": 2, "person": 2, "external": "aad-megan", "contact": _json(REFERENCE)},
                        {"id": 3, "person": 3, "external": "29:aad-megan", "contact": None}):
                await s.exec(insert, params=row)
            # the table as it is at 0011 (the model has columns added since)
            await s.exec(text("INSERT INTO handoff (id, workspace_id, number, from_id, to_id, account, need, due_date, "
                              "stage, stage_changed_at, created_at) VALUES (1, 1, 1, 1, 3, 'Contoso', 'a review', "
                              ":due, 'identified', :now, :now)"), params={"due": date(2026, 11, 27), "now": STORED_NOW})
            s.add(OutboxMessage(workspace_id=1, idempotency_key="handoff.new:H-1:-:3", platform="teams",
                                recipient_person_id=3, payload={"text": "Jonas handed you H-1"},
                                next_attempt_at=datetime(2100, 1, 1, tzinfo=timezone.utc), created_at=NOW))
            await s.commit()

        await upgrade(db)

        assert [p.display_name for p in await rows(db, Person)] == ["Jonas", "Megan Bowen"]
        megan = (await rows(db, Person))[1]
        assert (megan.id, megan.timezone, megan.manager_id) == (2, "Europe/Berlin", 1)  # blanks filled from the twin
        assert [(i.person_id, i.external_id, i.channel_account_id) for i in await rows(db, Identity)] == [
            (1, "aad-jonas", None), (2, "aad-megan", "29:aad-megan")]
        (handoff,) = await rows(db, Handoff)
        assert handoff.to_id == 2
        (waiting,) = await rows(db, OutboxMessage)
        assert waiting.recipient_person_id == 2 and waiting.next_attempt_at.year < 2100  # she can be reached: sent
        (merged,) = await rows(db, ActivityLog)
        assert (merged.action, merged.person_id, merged.before["person_id"]) == ("person.merged", 2, 3)
    finally:
        await db.dispose()


def _json(value) -> str:
    import json

    return json.dumps(value)
