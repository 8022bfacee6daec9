"""`partnerbot org import FILE.csv` / `partnerbot org export`: an admin's bulk manager links.

Whoever can run `partnerbot` against the database is an admin (as in the console). An import
is one transaction: refused whole, or applied whole and the people it concerns told.
"""
from __future__ import annotations

import sys
from pathlib import Path

from bot.wiring import Partnerbot
from handlers.kernel.context import JobContext
from handlers.kernel.errors import UserError
from handlers.people.org import export_links, import_links, read_links


class OperatorContext(JobContext):
    """The operator's batch: its log rows say `cli` and name no person."""

    platform = "cli"


async def org_import(bot: Partnerbot, path: Path) -> int:
    try:
        links = read_links(path.read_text(encoding="utf-8-sig"))  # a BOM from a spreadsheet export is fine
    except (OSError, UnicodeDecodeError) as error:
        print(f"partnerbot: cannot read {path}: {error}", file=sys.stderr)
        return 1
    except UserError as error:
        print(f"partnerbot: {path} is not an org file; nothing was changed:\n{error}", file=sys.stderr)
        return 1
    try:
        await bot.upgrade()
        async with bot.db.transaction() as store:
            changed, emails = await import_links(OperatorContext(store, bot.clock(), bot.settings), links,
                                         by=f"an admin's org import ({path.name})")
        sent = await bot.sender.drain() if changed else 0
    except UserError as error:
        print(f"partnerbot: {error}", file=sys.stderr)
        return 1
    finally:
        await bot.close()
    for line in sorted(changed + emails, key=lambda line: int(line.split(":")[0].removeprefix("line "))):
        print(line)
    print(f"{len(links)} row(s) read, {len(changed)} manager link(s) changed, {len(emails)} email(s) set, "
          f"{sent} message(s) sent")
    return 0


async def org_export(bot: Partnerbot) -> int:
    try:
        await bot.upgrade()
        async with bot.db.transaction() as store:
            text = await export_links(OperatorContext(store, bot.clock(), bot.settings))
    finally:
        await bot.close()
    sys.stdout.write(text)
    return 0
