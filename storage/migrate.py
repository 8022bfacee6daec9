"""Apply Alembic migrations from inside the running event loop."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    cfg = alembic_config()

    def _run(sync_connection) -> None:
        cfg.attributes["connection"] = sync_connection
        command.upgrade(cfg, revision)

    # engine.begin() (not db.session()) so SQLite's BEGIN IMMEDIATE covers the whole upgrade
    # and two processes starting at once apply each step once.
    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
