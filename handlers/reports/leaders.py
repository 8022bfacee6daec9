"""The dashboard's leaders page: the managers and executives in scope, and whether they partner
themselves — peer syncs answered, commitments kept, meetings they ran closed with action items —
the seed's "do senior executives collaborate at their level". Plain data; the same metrics as `report`.

Teams and Slack do not tell Partnerbot who attended a meeting, so "meetings" here are those the
leader organised (closed with an action item, of those held), the one thing it records.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from handlers.kernel.settings import SettingsLike
from handlers.kernel.text import plural
from handlers.partnerships.policy import DashboardView
from handlers.reports import metrics
from storage.store import Store


@dataclass(frozen=True)
class LeaderRow:
    person_id: int
    name: str
    role: str  # "executive", "manager of 8 (3 directly)", "manages P-1, P-4"…
    syncs: str
    syncs_number: float | None
    kept: str
    kept_number: float | None
    meetings: str
    meetings_number: float | None


async def leaders(store: Store, view: DashboardView, now: datetime, settings: SettingsLike) -> tuple[LeaderRow, ...]:
    """Executives first, then managers by how many people are below them."""
    window = metrics.Window(now)
    in_scope = view.people
    executives = set()
    for key in settings.executives:
        platform, _, rest = key.partition(":")
        workspace, _, user = rest.partition(":")
        person = await store.person_at(platform, workspace, user)
        if person is not None and person.id in in_scope:
            executives.add(person.id)
    direct = await store.direct_report_counts(in_scope)
    managing = await store.managed_partnership_refs(in_scope)
    ids = executives | set(direct) | set(managing)
    if not ids:
        return ()
    people = await store.people(ids)
    below = _below_counts(await store.managers_of_people(in_scope))
    commitments = await store.report_commitments_of_owners(ids, window.start)
    syncs, answers = await store.sync_answers_of(ids, window.start)
    meetings, items = await store.meetings_organised_by(ids, window.start, now)
    by_owner, answers_by, meetings_by = defaultdict(list), defaultdict(list), defaultdict(list)
    for c in commitments:
        by_owner[c.owner_id].append(c)
    for a in answers:
        answers_by[a.person_id].append(a)
    for m in meetings:
        meetings_by[m.organiser_id].append(m)
    sync_of = {s.id: s for s in syncs}
    items_by = defaultdict(list)
    for c in items:
        items_by[c.meeting_id].append(c)
    rows = []
    for pid in ids:
        roles = []
        if pid in executives:
            roles.append("executive")
        if pid in direct:
            roles.append(f"manager of {below.get(pid, direct[pid])} ({direct[pid]} directly)")
        if pid in managing:
            roles.append("manages " + ", ".join(managing[pid]))
        answered = metrics.Rate(*_answered(answers_by[pid], sync_of, window))
        kept = metrics.kept_rate(by_owner[pid], window)
        held = metrics.meeting_action_rate(meetings_by[pid], [c for m in meetings_by[pid]
                                                              for c in items_by.get(m.id, ())], window)
        rows.append(LeaderRow(
            pid, people[pid].display_name, " · ".join(roles),
            _rate_text(answered, "syncs answered", "no peer sync asked"), answered.percent,
            _rate_text(kept, "kept on time", "nothing due"), kept.percent,
            _rate_text(held, "closed with an action item", plural(0, "meeting") + " organised"), held.percent))
    rows.sort(key=lambda r: (r.person_id not in executives, -below.get(r.person_id, 0), r.name.lower()))
    return tuple(rows)


def _below_counts(links: dict[int, int]) -> dict[int, int]:
    """How many people report to each manager, directly or below, from rep -> manager links (each
    person counted once per manager above them; a cycle, which people/service refuses, stops)."""
    below: dict[int, int] = defaultdict(int)
    for person in links:
        seen, manager = {person}, links.get(person)
        while manager is not None and manager not in seen:
            below[manager] += 1
            seen.add(manager)
            manager = links.get(manager)
    return below


def _answered(answers, sync_of, window: metrics.Window) -> tuple[int, int, tuple]:
    """Of the syncs the leader was asked to answer (opened in the window, deadline passed or
    answered), how many they answered: their own part, whatever their peer did."""
    hits, totals = [0] * window.weeks, [0] * window.weeks
    for a in answers:
        sync = sync_of.get(a.peer_sync_id)
        i = window.bucket(sync.opened_at) if sync else None
        if i is None or (a.answered_at is None and sync.deadline_at > window.now):
            continue
        totals[i] += 1
        hits[i] += a.answered_at is not None
    return sum(hits), sum(totals), tuple(h / t if t else None for h, t in zip(hits, totals, strict=True))


def _rate_text(rate: metrics.Rate, what: str, none: str) -> str:
    if rate.percent is None:
        return f"— ({none})"
    return f"{rate.percent}% ({rate.hits} of {rate.total} {what})"
