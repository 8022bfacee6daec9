"""GET /exports/{token}.csv: the activity log of one partnership, for whoever holds a live link.

The link is the only credential: its token is looked up by SHA-256, and an unknown, malformed
or expired token gets the same 404 as one whose partnership is gone, so a guesser learns
nothing. The CSV is streamed a page at a time, each page read in a short transaction of its
own, so neither a big log nor a slow client holds memory or the database.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timezone
from typing import Any

from aiohttp import web

from handlers.kernel.dispatch import Clock
from handlers.kernel.settings import SettingsLike
from handlers.kernel.text import amount_text
from handlers.pulse.service import DIMENSIONS, withheld
from handlers.reports.export import TOKEN_SHAPE, token_hash
from storage.db import Database
from storage.models import ActivityLog, Partnership
from storage.store import Store

HEADER = ("time", "person", "platform", "action", "record", "details")
NOT_FOUND = "No export here: the link is wrong or has expired. Ask Partnerbot for a new one with `export P-n`.\n"
# Who did scheduled work (a peer sync opened, a meeting started): nobody typed it.
SCHEDULER = "Partnerbot"
# Log fields that hold a person's id: the CSV shows their name instead.
_PERSON_FIELDS = {"owner_id": "owner", "person_id": "person", "manager_id": "manager",
                  "manager_a": "manager A", "manager_b": "manager B", "from_id": "from", "to_id": "to"}
# Amounts are logged in cents: the CSV shows them as people typed them (120,000).
_AMOUNT_FIELDS = {"amount_cents": "amount"}
# Fields that hold people only in some rows: a peer-sync digest's "answered" lists who answered,
# a closed pulse's "answered" counts a side's answers.
_PERSON_FIELDS_OF = {"peer_sync.digest": {"answered": "answered"}}
# A closed pulse's part of each side: what the results said of it, under the same anonymity rule.
_PULSE_SIDES = {"side_a": "side A", "side_b": "side B"}
# A cell starting with one of these is a formula to a spreadsheet (=HYPERLINK(…) exfiltrates).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportDownload:
    def __init__(self, db: Database, clock: Clock, settings: SettingsLike, page_size: int = 1000):
        self.db, self.clock, self.page_size = db, clock, page_size
        self.pulse_min_answers = settings.cadence.pulse.min_answers

    async def handle(self, request: web.Request) -> web.StreamResponse:
        found = await self._live_export(request.match_info["token"])
        if found is None:
            return web.Response(status=404, text=NOT_FOUND, headers={"Cache-Control": "no-store"})
        p, up_to_id = found
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{p.ref}-activity.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        })
        await response.prepare(request)
        out = CsvBuffer()
        out.write("\ufeff")  # the byte-order mark Excel needs to read UTF-8 (names, arrows) as such
        out.row(HEADER)
        await response.write(out.take())
        names: dict[int, str] = {}
        after_id = 0
        while True:
            async with self.db.transaction() as store:
                page = await store.partnership_log_page(p, after_id=after_id, up_to_id=up_to_id,
                                                        limit=self.page_size)
                await _learn_names(store, page, names)
            for entry in page:
                out.row(csv_row(entry, names, self.pulse_min_answers))
            if page:
                await response.write(out.take())
            if len(page) < self.page_size:
                break
            after_id = page[-1].id
        await response.write_eof()
        return response

    async def _live_export(self, token: str) -> tuple[Partnership, int] | None:
        """The partnership of a live token, and the last log row of its export; None otherwise."""
        if not TOKEN_SHAPE.fullmatch(token):
            return None
        async with self.db.transaction() as store:
            issued = await store.export_token(token_hash(token))
            if issued is None or issued.expires_at <= self.clock():
                return None
            p = await store.get(Partnership, issued.partnership_id)
            if p is None or p.workspace_id != issued.workspace_id:
                return None
            return p, await store.last_log_id(p.workspace_id)


class CsvBuffer:
    """Rows written with the csv module, handed out as bytes a page at a time."""

    def __init__(self):
        self._text = io.StringIO()
        self._writer = csv.writer(self._text)

    def write(self, text: str) -> None:
        self._text.write(text)

    def row(self, cells: Iterable[str]) -> None:
        self._writer.writerow([defuse(cell) for cell in cells])

    def take(self) -> bytes:
        data = self._text.getvalue().encode("utf-8")
        self._text.seek(0)
        self._text.truncate()
        return data


def defuse(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula: a leading apostrophe makes it text."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def csv_row(entry: ActivityLog, names: dict[int, str], pulse_min_answers: int) -> tuple[str, ...]:
    at = entry.at.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    person = SCHEDULER if entry.person_id is None else _name(entry.person_id, names)
    details = describe(entry.before, entry.after, names, entry.action, pulse_min_answers)
    return at, person, entry.platform, entry.action, entry.record, details


def describe(before: Any, after: Any, names: dict[int, str], action: str, pulse_min_answers: int) -> str:
    """'stage: identified → positioned; note: sent the deck': what changed, then what is new;
    of a row that only says what went (a member or goal removed), what it was."""
    before, after = _fields(before), _fields(after)
    text = _Writer(names, action, pulse_min_answers)
    if not after:
        return "; ".join(f"{text.label(key)}: {text.value(key, old)}" for key, old in before.items() if old is not None)
    parts = []
    for key, new in after.items():
        old = before.get(key)
        if old is not None and key in before:
            if old != new:
                parts.append(f"{text.label(key)}: {text.value(key, old)} → {text.value(key, new)}")
        elif new is not None and new != [] and new != "":
            parts.append(f"{text.label(key)}: {text.value(key, new)}")
    for key, old in before.items():
        if key not in after and old is not None:
            parts.append(f"{text.label(key)}: {text.value(key, old)} → none")
    return "; ".join(parts)


def _fields(logged: Any) -> dict:
    """A log row's before/after as fields; every writer logs a dict, but one odd row must not
    cut a download short."""
    if logged is None:
        return {}
    return logged if isinstance(logged, dict) else {"value": logged}


def _person_fields(action: str) -> dict[str, str]:
    """The fields of a row of `action` that hold people's ids, with their labels."""
    return {**_PERSON_FIELDS, **_PERSON_FIELDS_OF.get(action, {})}


class _Writer:
    """The values of one log row as a reader wants them: people by name (also inside a win's
    credit list), yes/no, one line per answer, a closed pulse's sides as its results said them."""

    def __init__(self, names: dict[int, str], action: str, pulse_min_answers: int):
        self.names, self.action, self.pulse_min_answers = names, action, pulse_min_answers
        self.people = _person_fields(action)

    def label(self, key: str) -> str:
        if self.action == "pulse.closed" and key in _PULSE_SIDES:
            return _PULSE_SIDES[key]
        return self.people.get(key) or _AMOUNT_FIELDS.get(key, key)

    def value(self, key: str, value: Any) -> str:
        if self.action == "pulse.closed" and key in _PULSE_SIDES and isinstance(value, dict):
            return self._pulse_side(value)
        if key in _AMOUNT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
            return amount_text(value)
        if key in self.people and _is_ids(value):
            ids = value if isinstance(value, list) else [value]
            return ", ".join(_name(i, self.names) for i in ids) or "nobody"
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            return ", ".join(self.value(key, v) for v in value)
        if isinstance(value, dict):
            return "(" + ", ".join(f"{self.label(k)} {self.value(k, v)}" for k, v in value.items()) + ")"
        # a multi-line answer stays on one line of the spreadsheet
        return " / ".join(line.strip() for line in str(value).splitlines() if line.strip())

    def _pulse_side(self, side: dict) -> str:
        """'3 of 4 answered, averages risk 4.7, resources 3.7, …', or 'too few answers to show
        (2 of 5)': the rule of the results message, with today's threshold (a row logged before
        the rule, or under a lower one, shows no more than the results would now)."""
        answered, asked = side.get("answered"), side.get("asked")
        if not isinstance(answered, int) or not isinstance(asked, int):
            return "no counts logged"
        hidden = withheld(answered, asked, self.pulse_min_answers)
        if hidden:
            return hidden
        averages = side.get("averages") if isinstance(side.get("averages"), dict) else {}
        shown = ", ".join(f"{dim} {averages[dim]}" for dim, _ in DIMENSIONS if dim in averages)
        return f"{answered} of {asked} answered" + (f", averages {shown}" if shown else "")


def _is_ids(value: Any) -> bool:
    def is_id(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    return is_id(value) or (isinstance(value, list) and all(is_id(v) for v in value))


def _person_ids(people: dict[str, str], key: str | None, value: Any) -> Iterable[int]:
    """Every person id a logged value holds, however deep (a win's credit list)."""
    if key in people and _is_ids(value):
        yield from (value if isinstance(value, list) else [value])
    elif isinstance(value, list):
        for item in value:
            yield from _person_ids(people, key, item)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _person_ids(people, k, v)


def _name(person_id: int, names: dict[int, str]) -> str:
    return names.get(person_id, f"person #{person_id}")


async def _learn_names(store: Store, page: list[ActivityLog], names: dict[int, str]) -> None:
    """Display names of everyone a page mentions that earlier pages did not."""
    wanted: set[int] = set()
    for entry in page:
        if entry.person_id is not None:
            wanted.add(entry.person_id)
        people = _person_fields(entry.action)
        for values in (_fields(entry.before), _fields(entry.after)):
            wanted.update(_person_ids(people, None, values))
    wanted -= names.keys()
    names.update({i: p.display_name for i, p in (await store.people(wanted)).items()})
