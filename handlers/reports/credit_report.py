"""The credit report (/app/credit): every win of a period with its amount, each credited person
with their roles, share and part of the amount, and the totals per person — what a compensation
plan needs, from the split each win was recorded with. Its CSV is exactly this table, one row per
credited person of a win, and the parts of a win add up to its amount to the cent
(wins.service.credited_amounts, the split of the win's announcement)."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.kernel.text import amount_text
from handlers.partnerships.policy import DashboardView
from handlers.wins.service import credited_amounts
from storage.store import Store

MAX_DAYS = 366 * 2  # a period longer than two years is refused: a report, not an export of everything


@dataclass(frozen=True)
class CreditLine:
    person_id: int
    name: str
    roles: str
    share: float
    cents: int | None  # their part of the amount; None when the win has none


@dataclass(frozen=True)
class WinRow:
    record: str
    account: str
    won_on: date
    amount_cents: int | None
    credits: tuple[CreditLine, ...]


@dataclass(frozen=True)
class PersonTotal:
    person_id: int
    name: str
    wins: int
    cents: int
    without_amount: int  # wins credited to them that carry no amount


@dataclass(frozen=True)
class CreditReport:
    start: date
    end: date  # both included
    wins: tuple[WinRow, ...]
    totals: tuple[PersonTotal, ...]  # largest credited amount first

    @property
    def amount_cents(self) -> int:
        return sum(w.amount_cents or 0 for w in self.wins)


def period(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """The days asked for (YYYY-MM-DD, both included); this quarter so far without them. Raises
    ValueError with what is wrong."""
    if not start and not end:
        quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return quarter_start, today
    try:
        first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
    except ValueError:
        raise ValueError("from and to must both be dates like 2026-10-01") from None
    if last < first:
        raise ValueError("to is before from")
    if (last - first).days > MAX_DAYS:
        raise ValueError("the period is longer than two years")
    return first, last


async def credit_report(store: Store, view: DashboardView, start: date, end: date, tz: str) -> CreditReport:
    zone = ZoneInfo(tz)
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    credited = view.credited_people
    if credited is None:  # the whole workspace
        wins = await store.credited_wins(since, until, workspace_id=view.workspace_id)
    else:
        wins = await store.credited_wins(since, until, person_ids=credited)
    people = await store.people({c.person_id for _, lines, _ in wins for c in lines})
    rows, totals = [], defaultdict(lambda: [0, 0, 0])
    for win, credits, account in wins:
        lines = sorted(credits, key=lambda c: (-c.share, c.person_id))
        parts = credited_amounts(lines, win.amount_cents)
        shown = []
        for c, cents in zip(lines, parts, strict=True):
            name = people[c.person_id].display_name if c.person_id in people else "someone"
            shown.append(CreditLine(c.person_id, name, c.roles.replace(",", ", "), c.share, cents))
            total = totals[c.person_id]
            total[0] += 1
            total[1] += cents or 0
            total[2] += cents is None
        rows.append(WinRow(win.record, account, win.won_at.astimezone(zone).date(),
                           win.amount_cents, tuple(shown)))
    per_person = [PersonTotal(pid, people[pid].display_name if pid in people else "someone", *t)
                  for pid, t in totals.items()]
    per_person.sort(key=lambda t: (-t.cents, t.name.lower()))
    return CreditReport(start, end, tuple(rows), tuple(per_person))


CSV_HEADER = ("win", "account", "won_on", "win_amount", "person", "roles", "share", "credited_amount")


def credit_csv(report: CreditReport) -> str:
    """One row per credited person of each win; amounts in the currency unit with two decimals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for win in report.wins:
        for line in win.credits:
            writer.writerow((win.record, _cell(win.account), win.won_on.isoformat(), _money(win.amount_cents),
                             _cell(line.name), line.roles, f"{line.share:.4f}", _money(line.cents)))
    return out.getvalue()


def _money(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _cell(text: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula: user text never does."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def amount_shown(cents: int | None) -> str:
    return "—" if cents is None else amount_text(cents)
