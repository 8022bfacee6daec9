"""The rows a scorecard is computed from (`report`); a Store mixin.

Each method is a SELECT (two for syncs and their answers) restricted to a scope, through
indexed columns, and to the window: records decided in the window, plus what is still open
(an open commitment, handoff or lead may be overdue, stuck or waiting for its next activity
whatever its age). The scope is either some people (their
own records, on every platform they linked: a person is one row whatever their identities)
or a partnership (its members' collaboration). The figures are computed in Python
(handlers/reports/metrics.py) from these rows, which come back as read-only records (base.record_class),
not ORM objects: a busy partnership's report reads tens of thousands. One exception: a
partnership's commitments in the chat's scorecard come as counts (commitment_groups).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union,
    union_all,
)

from storage.models import (
    COMMITMENT_COUNTED,
    Ask,
    Commitment,
    Handoff,
    Lead,
    Meeting,
    PartnershipMember,
    PeerSync,
    SyncAnswer,
    Win,
    WinCredit,
)
from storage.queries.asks import OPEN_ASK
from storage.queries.base import Queries, Read, plain_read, read_columns, record_class, union_read
from storage.types import UTCDateTime


@dataclass(frozen=True)
class People:
    """Scope: the records of these people (one person for `report @x`, a side's reps for coaching)."""

    ids: tuple[int, ...]

    def params(self, **more) -> dict:
        """The values of BOUND_PEOPLE's parameters (and `more`), for a statement built on it."""
        return {"ids": list(self.ids), **more}


@dataclass(frozen=True)
class PartnershipScope:
    """Scope: a partnership's collaboration. Handoffs count when they go between its sides."""

    partnership_id: int
    side_a: tuple[int, ...]
    side_b: tuple[int, ...]

    @property
    def members(self) -> tuple[int, ...]:
        return self.side_a + self.side_b

    def params(self, **more) -> dict:
        """The values of BOUND's parameters (and `more`), for a statement built on it."""
        return {"partnership_id": self.partnership_id, "side_a": list(self.side_a), "side_b": list(self.side_b),
                "members": list(self.members), **more}


Scope = People | PartnershipScope


class _BoundScope(PartnershipScope):
    """BOUND's members are a parameter of their own (a parameter's value is no tuple to add)."""

    @property
    def members(self):
        return bindparam("members", expanding=True)


# Scopes as bound parameters: the statements of a scorecard and of `list P-n` are built once on
# them (functools.cache, at the end of this module) and run with the scope's params() (see base.Read)
BOUND: PartnershipScope = _BoundScope(bindparam("partnership_id"), bindparam("side_a", expanding=True),
                                      bindparam("side_b", expanding=True))
BOUND_PEOPLE = People(bindparam("ids", expanding=True))
SINCE, NOW = bindparam("since"), bindparam("now")
HANDOFF_IDS = bindparam("handoff_ids", expanding=True)  # those between its sides, read first


def _between_sides(scope: PartnershipScope):
    """Handoffs from one side to the other (none when a side has no members: an empty IN)."""
    a, b = scope.side_a, scope.side_b
    return or_(and_(Handoff.from_id.in_(a), Handoff.to_id.in_(b)), and_(Handoff.from_id.in_(b), Handoff.to_id.in_(a)))


def _handoff_ids(scope: PartnershipScope):
    return select(Handoff.id).where(_between_sides(scope))


def _sync_ids(scope: PartnershipScope):
    return select(PeerSync.id).where(PeerSync.partnership_id == scope.partnership_id)


def _meeting_ids(scope: PartnershipScope):
    return select(Meeting.id).where(Meeting.partnership_id == scope.partnership_id)


def _lead_ids(scope: PartnershipScope):
    return select(Lead.id).where(Lead.partnership_id == scope.partnership_id)


def _commitment_searches(scope: PartnershipScope, handoff_ids: Sequence[int] | None = None) -> list:
    """A partnership's commitments, one indexed search each: its syncs' pledges, its meetings'
    action items, its leads' activities and those made about handoffs between its sides.

    They are run as a UNION, never as an OR: PostgreSQL reads the whole commitment table for an OR
    of IN-subqueries (110 ms at 666,000 commitments). `handoff_ids`, when the caller read them
    first, stand for the handoffs between the sides: PostgreSQL guesses that subquery finds 2 and
    compares each member's commitment with all of them (45 ms for a busy partnership)."""
    handoffs = _handoff_ids(scope) if handoff_ids is None else handoff_ids
    return [Commitment.peer_sync_id.in_(_sync_ids(scope)), Commitment.meeting_id.in_(_meeting_ids(scope)),
            Commitment.lead_id.in_(_lead_ids(scope)), Commitment.handoff_id.in_(handoffs)]


def _commitments_of(scope: PartnershipScope):
    """A partnership's commitments, as a condition on commitment.id (`list P-n done`)."""
    return Commitment.id.in_(union(*(select(Commitment.id).where(search) for search in _commitment_searches(scope))))


def _ask_searches(scope: PartnershipScope) -> list:
    """A partnership's asks, one indexed search each: about it, or about its leads or the handoffs
    between its sides (run as a UNION, as for commitments)."""
    # ask.lead_id and ask.handoff_id have no index: asks about its leads and handoffs are
    # found among those a member made or was asked
    members = scope.members
    about = or_(Ask.lead_id.in_(_lead_ids(scope)), Ask.handoff_id.in_(_handoff_ids(scope)))
    return [Ask.partnership_id == scope.partnership_id, and_(Ask.asker_id.in_(members), about),
            and_(Ask.person_id.in_(members), about)]


def _asks_of(scope: PartnershipScope, *also):
    """A partnership's asks (those matching `also` too), as a condition on ask.id."""
    return Ask.id.in_(union(*(select(Ask.id).where(search, *also) for search in _ask_searches(scope))))


def _partnerships_of(ids: Sequence[int], role: str | None = None):
    """Partnerships these people are members of (with `role`, when given)."""
    query = select(PartnershipMember.partnership_id).where(PartnershipMember.person_id.in_(ids))
    return query.where(PartnershipMember.role == role) if role else query


def commitment_window(since: datetime):
    """Closed in the window or still open."""
    return or_(Commitment.closed_at >= since, Commitment.status == "open")


def counted_window(since: datetime, now: datetime):
    """Closed in the window, or open and past due: an open commitment not due yet counts in no
    figure (it is neither resolved nor overdue)."""
    return or_(Commitment.closed_at >= since, and_(Commitment.status == "open", Commitment.due_at < now))


def handoff_window(since: datetime, open_stages: Sequence[str]):
    """Made or accepted in the window, or still open (in an open stage, not declined)."""
    still_open = and_(Handoff.stage.in_(open_stages), Handoff.declined_at.is_(None))
    return or_(Handoff.created_at >= since, Handoff.accepted_at >= since, still_open)


def lead_window(since: datetime):
    return or_(Lead.created_at >= since, Lead.closed_at >= since, Lead.status == "open")


def ask_window(since: datetime):
    return or_(Ask.created_at >= since, Ask.first_response_at >= since, Ask.answered_at >= since)


@dataclass(frozen=True)
class CommitmentGroup:
    """`count` commitments alike for a scorecard (ReportQueries.commitment_groups). Weeks are
    numbered from 0, oldest first; week i holds [its start, the next one's), the last one up to
    `now`: for `due_week` just before it (one due at `now` is not past due yet), for
    `closed_week` including it (one done at `now` counts)."""

    status: str
    kept: int  # 1: done on or before its due instant
    due_week: int  # -1: due before the window; `weeks`: due at `now` or later
    closed_week: int | None  # None: not closed; -1, `weeks`: closed before the window, after now
    closed_by: int  # how many weeks end before it was closed (`weeks` when not closed)
    created_by: int  # how many weeks end before it was made
    count: int


# What a commitment's figures are computed from (metrics.kept_rate and metrics.overdue, or
# _commitment_groups), and its id: the indexes that find a partnership's commitments hold them all
# (models._commitments_of)
COUNTED = ("id", *COMMITMENT_COUNTED)


class ReportQueries(Queries):
    async def report_commitments(self, scope: Scope, since: datetime) -> list[Commitment]:
        """Commitments closed in the window or still open, soonest due first. A person's: those
        they own. A partnership's: its syncs' pledges, its meetings' action items, its leads'
        activities and the commitments made about handoffs between its sides."""
        if isinstance(scope, People):
            return await self._read(_people_commitments(), scope.params(since=since))
        return await self._read(_partnership_commitments(),
                                scope.params(since=since, handoff_ids=await self._handoff_ids_between(scope)))

    async def commitment_groups(self, scope: PartnershipScope, starts: Sequence[datetime],
                                now: datetime) -> list[CommitmentGroup]:
        """A partnership's commitments that its figures at `now` count (counted_window: closed in
        the window, or open and past due), each once, placed among the weeks of the window and
        counted by where they fall: for a scorecard that lists none of them. `starts`: each
        week's first instant, oldest first; the last week ends at `now`. The busy partnership of
        bench/report_scale.py has 2,700 of these, whose 8,000 instants cost more to read into
        datetimes than anything else in its `report P-1`. So they are not read as datetimes:
          * PostgreSQL places and counts them itself (_commitment_groups), on its own core: asyncpg
            took ~1 µs to decode each instant (`report P-1` p50 56 → 44 ms, CPU 44 → 26 ms);
          * SQLite's grouping would run in this process, slower than Python's (18 against 10 ms):
            the rows are read with their instants as SQLite stores them, text that sorts as the
            instants do, and placed here (_placed)."""
        params = scope.params(since=starts[0], now=now, handoff_ids=await self._handoff_ids_between(scope),
                              **{f"start_{i}": start for i, start in enumerate(starts[1:], 1)})
        dialect = self._session.bind.dialect
        if dialect.name == "postgresql":
            return [CommitmentGroup(*row) for row in await self._rows(_commitment_groups(len(starts)), params)]
        as_stored = UTCDateTime().bind_processor(dialect)
        return _placed(await self._rows(_counted_as_stored(), params), [as_stored(s) for s in starts], as_stored(now))

    async def _handoff_ids_between(self, scope: PartnershipScope) -> list[int]:
        return [row[0] for row in await self._rows(_handoff_ids_statement(), scope.params())]

    async def kept_counts(self, owner_ids: Sequence[int], since: datetime, now: datetime) -> dict[int, int]:
        """How many commitments each of these people did between `since` and `now` (counted in
        the index on owner_id: a rep of a busy partnership has done thousands)."""
        rows = await self._rows(_kept_counts(), People(tuple(owner_ids)).params(since=since, now=now))
        return {owner: count for owner, count in rows}

    async def overdue_commitments(self, owner_ids: Sequence[int], now: datetime) -> list[Commitment]:
        """These people's open commitments due before `now`, soonest due first."""
        return await self._read(_overdue_commitments(), People(tuple(owner_ids)).params(now=now))

    async def report_handoffs(self, scope: Scope, since: datetime, open_stages: Sequence[str],
                              stages: Sequence[str]) -> list[Handoff]:
        """Handoffs given or received (a partnership's: between its sides) that were made or
        accepted in the window, or are still open (in one of `open_stages`, not declined). Only
        those in one of `stages`: a handoff taken back by its sender is not counted at all."""
        read = _report_handoffs(isinstance(scope, People), tuple(open_stages), tuple(stages))
        return await self._read(read, scope.params(since=since))

    async def report_syncs(self, scope: Scope, since: datetime) -> tuple[list[PeerSync], list[SyncAnswer]]:
        """Peer syncs opened in the window (a person's: of the partnerships they manage), and
        the managers' parts in them."""
        syncs = await self._read(_report_syncs(isinstance(scope, People)), scope.params(since=since))
        if not syncs:
            return [], []
        return syncs, await self._read(_sync_answers(), {"sync_ids": [s.id for s in syncs]})

    async def report_meetings(self, scope: Scope, since: datetime, now: datetime) -> list[Meeting]:
        """Meetings that ended in the window (a person's: those they organised; an organiser
        is a member of the meeting's partnership, which narrows the search to its index)."""
        return await self._read(_report_meetings(isinstance(scope, People)), scope.params(since=since, now=now))

    async def report_action_items(self, meeting_ids: Sequence[int], counted_only: bool = False) -> list[Commitment]:
        """Every action item of these meetings (whether a meeting has one decides its rate).
        `counted_only`: their COUNTED columns and meeting_id alone (for figures, not a list)."""
        if not meeting_ids:
            return []
        return await self._read(_action_items(counted_only), {"meeting_ids": list(meeting_ids)})

    async def report_leads(self, scope: Scope, since: datetime) -> list[Lead]:
        """Leads (a person's: raised or owned by them) made or closed in the window, or open."""
        return await self._read(_report_leads(isinstance(scope, People)), scope.params(since=since))

    async def report_asks(self, scope: Scope, since: datetime) -> list[Ask]:
        """Asks (a person's: those they were asked; a partnership's: about it, its leads or the
        handoffs between its sides) made, first responded to or answered in the window."""
        return await self._read(_report_asks(isinstance(scope, People)), scope.params(since=since))

    async def report_credits(self, person_ids: Sequence[int], since: datetime) -> list[tuple[WinCredit, Win]]:
        """These people's credit on the wins of the window."""
        query = (select(WinCredit, Win).join(Win, Win.id == WinCredit.win_id)
                 .where(WinCredit.person_id.in_(person_ids), Win.won_at >= since).order_by(Win.won_at))
        return [(credit, win) for credit, win in (await self._session.exec(query)).all()]

    # --- what is open now (`list P-n`), soonest due first, at most `limit` of each -----------
    async def open_commitments_of(self, scope: PartnershipScope, limit: int) -> list[Commitment]:
        handoff_ids = await self._handoff_ids_between(scope)
        return await self._read(_open_commitments(limit), scope.params(handoff_ids=handoff_ids))

    async def open_handoffs_between(self, scope: PartnershipScope, open_stages: Sequence[str],
                                    limit: int) -> list[Handoff]:
        query = select(Handoff).where(_between_sides(scope), Handoff.stage.in_(open_stages),
                                      Handoff.declined_at.is_(None))
        # handoffs without a date after those with one
        return await self._all(query.order_by(Handoff.due_date.is_(None), Handoff.due_date, Handoff.id).limit(limit))

    async def open_leads_of(self, scope: PartnershipScope, limit: int) -> list[Lead]:
        return await self._all(select(Lead).where(Lead.partnership_id == scope.partnership_id, Lead.status == "open")
                               .order_by(Lead.id).limit(limit))

    async def open_asks_of(self, scope: PartnershipScope, limit: int) -> list[Ask]:
        """Read-only records, as a UNION's rows (see _partnership_asks)."""
        return await self._read(_open_asks(limit), scope.params())

    async def report_wins(self, scope: PartnershipScope, since: datetime) -> list[Win]:
        """A partnership's wins of the window: of its leads and of the handoffs between its sides."""
        return await self._read(_partnership_wins(), scope.params(since=since))

    # --- `list done|won|lost|all`: closed records, newest first ---------------------------------
    async def closed_items(self, scope: Scope, *, commitment_status: Sequence[str], handoff_stages: Sequence[str],
                           handoffs_declined: bool, lead_status: Sequence[str], ask_status: Sequence[str],
                           since: datetime | None, limit: int) -> tuple[list, list, list, list]:
        """(commitments, handoffs, leads, asks) closed with these outcomes (at or after `since`),
        newest first: a person's own (owned, given or received, asked or asking) or a partnership's."""
        if isinstance(scope, People):
            commitments_of = Commitment.owner_id.in_(scope.ids)
            handoffs_of = or_(Handoff.from_id.in_(scope.ids), Handoff.to_id.in_(scope.ids))
            leads_of = Lead.owner_id.in_(scope.ids)
            asks_of = or_(Ask.asker_id.in_(scope.ids), Ask.person_id.in_(scope.ids))
        else:
            commitments_of, handoffs_of = _commitments_of(scope), _between_sides(scope)
            leads_of, asks_of = Lead.partnership_id == scope.partnership_id, _asks_of(scope)

        def after(column):
            return column >= since if since is not None else column.is_not(None)

        out: tuple[list, list, list, list] = ([], [], [], [])
        if commitment_status:
            out[0].extend(await self._all(
                select(Commitment).where(commitments_of, Commitment.status.in_(commitment_status),
                                         after(Commitment.closed_at))
                .order_by(Commitment.closed_at.desc(), Commitment.id.desc()).limit(limit)))
        if handoff_stages or handoffs_declined:
            ended = or_(and_(Handoff.declined_at.is_(None), Handoff.stage.in_(handoff_stages),
                             after(Handoff.stage_changed_at)),
                        and_(Handoff.declined_at.is_not(None), after(Handoff.declined_at)) if handoffs_declined
                        else false())
            out[1].extend(await self._all(select(Handoff).where(handoffs_of, ended)
                                          .order_by(Handoff.stage_changed_at.desc(), Handoff.id.desc()).limit(limit)))
        if lead_status:
            out[2].extend(await self._all(
                select(Lead).where(leads_of, Lead.status.in_(lead_status), after(Lead.closed_at))
                .order_by(Lead.closed_at.desc(), Lead.id.desc()).limit(limit)))
        if ask_status:
            closed_at = func.coalesce(Ask.answered_at, Ask.declined_at)
            out[3].extend(await self._all(
                select(Ask).where(asks_of, Ask.status.in_(ask_status), after(closed_at))
                .order_by(closed_at.desc(), Ask.id.desc()).limit(limit)))
        return out


# --- the reads of a scorecard, built once on BOUND or BOUND_PEOPLE (see base.Read) ---------------
@cache
def _handoff_ids_statement():
    return _handoff_ids(BOUND)


@cache
def _people_commitments() -> Read:
    return plain_read(Commitment, Commitment.owner_id.in_(BOUND_PEOPLE.ids), commitment_window(SINCE),
                      order_by=(Commitment.due_at, Commitment.id))


@cache
def _kept_counts():
    return (select(Commitment.owner_id, func.count())
            .where(Commitment.owner_id.in_(BOUND_PEOPLE.ids), Commitment.status == "done",
                   Commitment.closed_at >= SINCE, Commitment.closed_at <= NOW)
            .group_by(Commitment.owner_id))


@cache
def _overdue_commitments() -> Read:
    return plain_read(Commitment, Commitment.owner_id.in_(BOUND_PEOPLE.ids), Commitment.status == "open",
                      Commitment.due_at < NOW, order_by=(Commitment.due_at, Commitment.id))


@cache
def _partnership_commitments() -> Read:
    return union_read(Commitment, _commitment_searches(BOUND, HANDOFF_IDS), commitment_window(SINCE),
                      order_by=("due_at", "id"))


@cache
def _counted_as_stored():
    """A partnership's counted commitments (id, status, closed_at, due_at, created_at), the
    instants as the text SQLite stores them, as a UNION ALL (_placed drops the duplicates)."""
    c = Commitment.__table__.c
    as_stored = [type_coerce(c[name], String) for name in ("closed_at", "due_at", "created_at")]
    return union_all(*(select(c.id, c.status, *as_stored).where(search, counted_window(SINCE, NOW))
                       for search in _commitment_searches(BOUND, HANDOFF_IDS)))


def _placed(rows: Sequence, starts: Sequence, now) -> list[CommitmentGroup]:
    """_commitment_groups's placing and counting, here, of rows of _counted_as_stored: `starts`
    and `now` in the rows' terms (SQLite's stored text, which sorts as the instants do)."""
    weeks, ends = len(starts), [*starts[1:], now]
    counts: Counter = Counter()
    seen: set[int] = set()
    for commitment_id, status, closed, due, created in rows:
        if commitment_id in seen:  # found by two searches
            continue
        seen.add(commitment_id)
        kept = 1 if status == "done" and closed is not None and closed <= due else 0
        due_week = bisect_right(starts, due) - 1 if due < now else weeks
        if closed is None:
            closed_week, closed_by = None, weeks
        else:
            closed_week = bisect_right(starts, closed) - 1 if closed <= now else weeks
            closed_by = bisect_left(ends, closed)
        counts[status, kept, due_week, closed_week, closed_by, bisect_left(ends, created)] += 1
    return [CommitmentGroup(*placed, count) for placed, count in counts.items()]


@cache
def _commitment_groups(weeks: int):
    """CommitmentGroup's counts, by PostgreSQL: where each commitment's instants fall among the
    weeks' bounds (a binary search in CASEs, ~4 comparisons an instant; a SUM per week and figure
    made 8 each, and `report P-1` took 45 ms against 40–42), grouped."""
    counted = [Commitment.__table__.c[name] for name in COUNTED]
    found = union(*(select(*counted).where(search, counted_window(SINCE, NOW))
                    for search in _commitment_searches(BOUND, HANDOFF_IDS))).subquery()  # each once
    c = found.c
    starts = [SINCE, *(bindparam(f"start_{i}", type_=c.closed_at.type) for i in range(1, weeks))]
    ends = [*starts[1:], NOW]
    not_closed = c.closed_at.is_(None)
    placed = select(
        c.status,
        case((and_(c.status == "done", c.closed_at <= c.due_at), _number(1)), else_=_number(0)).label("kept"),
        _position([c.due_at < start for start in starts] + [c.due_at < NOW], -1).label("due_week"),
        case((not_closed, null()),  # the newest week holds `now` itself
             else_=_position([c.closed_at < start for start in starts] + [c.closed_at <= NOW], -1)
             ).label("closed_week"),
        case((not_closed, _number(weeks)), else_=_position([c.closed_at <= end for end in ends])).label("closed_by"),
        _position([c.created_at <= end for end in ends]).label("created_by"),
    ).subquery()
    return select(*placed.c, func.count()).group_by(*placed.c)


def _position(before: Sequence, plus: int = 0, low: int = 0, high: int | None = None):
    """How many of the conditions `before` (each true when an instant is before a bound; the
    bounds ascending) are false, plus `plus`: a CASE that halves the bounds at each step."""
    high = len(before) if high is None else high
    if low == high:
        return _number(low + plus)
    middle = (low + high) // 2
    return case((before[middle], _position(before, plus, low, middle)), else_=_position(before, plus, middle + 1, high))


def _number(n: int):
    """An integer written into the statement (a bound one would make each of the SELECT's CASEs
    differ from the same one in its GROUP BY, for PostgreSQL)."""
    return literal_column(str(n), Integer)


@cache
def _open_commitments(limit: int) -> Read:
    return union_read(Commitment, _commitment_searches(BOUND, HANDOFF_IDS), Commitment.status == "open",
                      order_by=("due_at", "id"), limit=limit)


@cache
def _report_handoffs(of_people: bool, open_stages: tuple[str, ...], stages: tuple[str, ...]) -> Read:
    ids = BOUND_PEOPLE.ids
    whose = or_(Handoff.from_id.in_(ids), Handoff.to_id.in_(ids)) if of_people else _between_sides(BOUND)
    return plain_read(Handoff, whose, handoff_window(SINCE, open_stages), Handoff.stage.in_(stages),
                      order_by=(Handoff.created_at, Handoff.id))


@cache
def _report_syncs(of_people: bool) -> Read:
    if of_people:  # of the partnerships they manage
        partnerships = PeerSync.partnership_id.in_(_partnerships_of(BOUND_PEOPLE.ids, "manager"))
    else:
        partnerships = PeerSync.partnership_id == BOUND.partnership_id
    return plain_read(PeerSync, partnerships, PeerSync.opened_at >= SINCE, order_by=(PeerSync.opened_at,))


@cache
def _sync_answers() -> Read:
    return plain_read(SyncAnswer, SyncAnswer.peer_sync_id.in_(bindparam("sync_ids", expanding=True)))


@cache
def _report_meetings(of_people: bool) -> Read:
    if of_people:  # those they organised: an organiser is a member of the meeting's partnership
        ids = BOUND_PEOPLE.ids
        whose = and_(Meeting.partnership_id.in_(_partnerships_of(ids)), Meeting.organiser_id.in_(ids))
    else:
        whose = Meeting.partnership_id == BOUND.partnership_id
    return plain_read(Meeting, whose, Meeting.ends_at >= SINCE, Meeting.ends_at <= NOW, order_by=(Meeting.ends_at,))


@cache
def _action_items(counted_only: bool) -> Read:
    return plain_read(Commitment, Commitment.meeting_id.in_(bindparam("meeting_ids", expanding=True)),
                      order_by=(Commitment.id,), columns=(*COUNTED, "meeting_id") if counted_only else None)


@cache
def _report_leads(of_people: bool) -> Read:
    if of_people:  # raised or owned by them
        whose = or_(Lead.created_by_id.in_(BOUND_PEOPLE.ids), Lead.owner_id.in_(BOUND_PEOPLE.ids))
    else:
        whose = Lead.partnership_id == BOUND.partnership_id
    return plain_read(Lead, whose, lead_window(SINCE), order_by=(Lead.id,))


@cache
def _report_asks(of_people: bool) -> Read:
    if of_people:  # those they were asked
        return plain_read(Ask, Ask.person_id.in_(BOUND_PEOPLE.ids), ask_window(SINCE), order_by=(Ask.id,))
    # the union's rows themselves: as `ask.id IN (union)` PostgreSQL read the whole ask table
    return union_read(Ask, _ask_searches(BOUND), ask_window(SINCE), order_by=("id",))


@cache
def _open_asks(limit: int) -> Read:
    found = union(*(select(*read_columns(Ask)).where(search, Ask.status.in_(OPEN_ASK))
                    for search in _ask_searches(BOUND))).subquery()
    query = select(*found.c).order_by(found.c.due_date.is_(None), found.c.due_date, found.c.created_at,
                                      found.c.id).limit(limit)
    return Read(query, record_class(Ask)._make)


@cache
def _partnership_wins() -> Read:
    whose = or_(Win.lead_id.in_(_lead_ids(BOUND)), Win.handoff_id.in_(_handoff_ids(BOUND)))
    return plain_read(Win, whose, Win.won_at >= SINCE, order_by=(Win.won_at,))
