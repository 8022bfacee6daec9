"""RecordLinks on the database (crm_link): the CRM id each of our records became."""
from __future__ import annotations

from handlers.kernel.dispatch import Clock
from storage.db import Database


class DatabaseRecordLinks:
    def __init__(self, db: Database, clock: Clock, crm: str):
        self.db, self.clock, self.crm = db, clock, crm

    async def get(self, workspace_id: int, record: str) -> str | None:
        async with self.db.reading() as store:
            return await store.crm_link(workspace_id, record)

    async def put(self, workspace_id: int, record: str, external_id: str) -> None:
        # its own short transaction, right after the CRM answered: a crash before it is what
        # the CRM-side search on a retry is for
        async with self.db.transaction() as store:
            await store.keep_crm_link(workspace_id, record, self.crm, external_id, self.clock())

    async def tell_admins(self, notice: str | None) -> None:
        async with self.db.transaction() as store:
            await store.set_crm_setup_notice(self.crm, notice, self.clock())
