"""The scorecard's figures and sparklines on small hand-made rows (no database)."""
from datetime import datetime, timedelta, timezone

import pytest

from handlers.reports import metrics
from handlers.reports.coaching import Activity, RepFacts, questions, rep_facts
from handlers.reports.metrics import Window
from handlers.reports.sparkline import sparkline
from storage.models import Ask, Commitment, Handoff, Lead, Meeting, PeerSync, Person, SyncAnswer, Win, WinCredit

UTC = timezone.utc
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)  # a Monday; the window starts Mon 26 Oct 10:00
W = Window(NOW)
H = timedelta(hours=1)
D = timedelta(days=1)


def week(i: int, hours: float = 24) -> datetime:
    """An instant inside bucket i (0 oldest … 7 newest), `hours` after the bucket starts."""
    return W.start + i * metrics.WEEK + timedelta(hours=hours)


def commitment(status="open", due=None, closed=None, created=None, number=1, **kw) -> Commitment:
    due = due or week(3)
    return Commitment(number=number, owner_id=1, created_by_id=1, what="x", due_date=due.date(), due_at=due,
                      status=status, closed_at=closed, created_at=created or due - 3 * D, workspace_id=1, **kw)


# --- the window -------------------------------------------------------------------------------
def test_buckets_are_seven_days_ending_now_oldest_first():
    assert W.start == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    assert W.bucket(W.start) == 0
    assert W.bucket(W.start - timedelta(microseconds=1)) is None
    assert W.bucket(datetime(2026, 11, 2, 9, 59, tzinfo=UTC)) == 0
    assert W.bucket(datetime(2026, 11, 2, 10, 0, tzinfo=UTC)) == 1
    assert W.bucket(NOW - timedelta(days=7)) == 7
    assert W.bucket(NOW - timedelta(days=7, microseconds=1)) == 6
    assert W.bucket(NOW) == 7  # the instant of the report itself counts
    assert W.bucket(NOW + timedelta(microseconds=1)) is None
    assert W.ends()[0] == datetime(2026, 11, 2, 10, 0, tzinfo=UTC) and W.ends()[-1] == NOW


# --- kept-rate -------------------------------------------------------------------------------
def test_kept_rate_counts_late_dropped_and_open_past_due_as_not_kept_and_skips_what_is_not_due():
    rows = [
        commitment("done", due=week(1), closed=week(1) - H),  # on time: bucket 1
        commitment("done", due=week(1), closed=week(1)),  # at the due instant itself: on time
        commitment("done", due=week(2), closed=week(3)),  # late: counted when it was done, bucket 3
        commitment("dropped", due=week(6), closed=week(3, 30)),  # dropped early: bucket 3, not kept
        commitment("open", due=week(5)),  # open past due: bucket 5, not kept
        commitment("open", due=NOW + D),  # open, not due yet: not counted
        commitment("done", due=week(0), closed=W.start - H),  # resolved before the window
    ]
    rate = metrics.kept_rate(rows, W)
    assert (rate.hits, rate.total, rate.percent) == (2, 5, 40)
    assert rate.weekly == (None, 1.0, None, 0.0, None, 0.0, None, None)
    assert sparkline(rate.weekly) == "·█·▁·▁··"


def test_a_rate_with_nothing_to_count_has_no_percent():
    rate = metrics.kept_rate([commitment("open", due=NOW + D)], W)
    assert (rate.total, rate.percent) == (0, None)
    assert sparkline(rate.weekly) == "········"


def test_percent_is_rounded_half_up():
    assert metrics.Rate(1, 8, ()).percent == 13  # 12.5
    assert metrics.Rate(2, 3, ()).percent == 67
    assert metrics.Rate(1, 3, ()).percent == 33


def test_overdue_now_and_at_the_end_of_each_week():
    rows = [
        commitment("open", due=week(2), created=week(1)),  # overdue from bucket 2 on, still open
        commitment("done", due=week(3), closed=week(5), created=week(3, 0)),  # overdue at the ends of 3 and 4
        commitment("dropped", due=week(6), closed=week(6, 30), created=week(5)),  # dropped the day it was due
        commitment("open", due=NOW + D, created=week(7)),  # not due
    ]
    tally = metrics.overdue(rows, W)
    assert tally.total == 1
    assert tally.weekly == (0, 0, 1, 2, 2, 1, 1, 1)
    assert sparkline(tally.weekly) == "▁▁▅██▅▅▅"


# --- medians, handoffs, syncs, meetings --------------------------------------------------------
@pytest.mark.parametrize("values, expected", [([], None), ([5.0], 5.0), ([9.0, 1.0, 4.0], 4.0),
                                              ([1.0, 4.0, 10.0, 2.0], 3.0), ([6.0, 24.0], 15.0)])
def test_median_of_odd_and_even_counts(values, expected):
    assert metrics.median(values) == expected


def handoff(created, accepted=None, stage="identified", declined=None, number=1) -> Handoff:
    return Handoff(number=number, from_id=1, to_id=2, account="A", need="n", stage=stage, stage_changed_at=created,
                   created_at=created, accepted_at=accepted, declined_at=declined, workspace_id=1)


def test_handoffs_by_stage_time_to_accept_and_share_won():
    rows = [
        handoff(week(0), accepted=week(0) + 6 * H, stage="won"),
        handoff(week(2), accepted=week(2) + 24 * H, stage="introduced"),
        handoff(week(2, 150), accepted=week(3, 18), stage="positioned"),  # accepted 36 h later, in bucket 3
        handoff(week(5), declined=week(5) + H),
        handoff(W.start - 2 * D, accepted=week(0, 10), stage="won"),  # made before the window, accepted in it
    ]
    f = metrics.handoff_figures(rows, W)
    assert f.created.total == 4 and f.created.weekly == (1, 0, 2, 0, 0, 1, 0, 0)
    assert f.by_stage == {"won": 1, "introduced": 1, "positioned": 1} and f.declined == 1
    accept = metrics.accept_hours(rows, W)
    assert (accept.value, accept.count) == (30.0, 4)  # 6, 24, 36 and 58 h
    assert accept.weekly == (32.0, None, 24.0, 36.0, None, None, None, None)  # bucket 0: median of 6 and 58
    won = metrics.won_share(rows, W)
    assert (won.hits, won.total, won.percent) == (1, 4, 25)


def test_sync_participation_counts_decided_weeks_only():
    def sync(i, opened, deadline):
        return PeerSync(id=i, number=i, partnership_id=1, week="w", opened_at=opened, deadline_at=deadline,
                        pledges_due_at=deadline + D, workspace_id=1)

    syncs = [sync(1, week(1), week(1) + 6 * D), sync(2, week(2), week(2) + 6 * D),
             sync(3, week(7, 1), NOW + 5 * D), sync(4, week(7, 2), NOW + 6 * D)]
    answers = [SyncAnswer(peer_sync_id=1, person_id=1, side="a", answered_at=week(1)),
               SyncAnswer(peer_sync_id=1, person_id=2, side="b", answered_at=week(1, 30)),
               SyncAnswer(peer_sync_id=2, person_id=1, side="a", answered_at=week(2)),
               SyncAnswer(peer_sync_id=2, person_id=2, side="b"),
               SyncAnswer(peer_sync_id=3, person_id=1, side="a", answered_at=week(7, 2)),  # still open, waiting
               SyncAnswer(peer_sync_id=3, person_id=2, side="b"),
               SyncAnswer(peer_sync_id=4, person_id=1, side="a", answered_at=week(7, 3)),  # both: decided early
               SyncAnswer(peer_sync_id=4, person_id=2, side="b", answered_at=week(7, 4))]
    rate = metrics.sync_participation(syncs, answers, W)
    assert (rate.hits, rate.total) == (2, 3)
    assert sparkline(rate.weekly) == "·█▁····█"


def test_meeting_action_rate_needs_a_closed_meeting_with_an_action_item_not_dropped():
    def meeting(i, ends, closed=None):
        return Meeting(id=i, number=i, series_id=1, partnership_id=1, organiser_id=1, purpose="p",
                       starts_at=ends - H, ends_at=ends, closed_at=closed, workspace_id=1)

    meetings = [meeting(1, week(0), closed=week(0) + H), meeting(2, week(1)),  # never closed
                meeting(3, week(2), closed=week(2) + H), meeting(4, NOW + D)]  # 3: its one item dropped; 4: not held
    items = [commitment("done", meeting_id=1, due=week(1), closed=week(0, 30)),
             commitment("dropped", meeting_id=3, due=week(3), closed=week(2, 30))]
    rate = metrics.meeting_action_rate(meetings, items, W)
    assert (rate.hits, rate.total, rate.percent) == (1, 3, 33)
    assert sparkline(rate.weekly) == "█▁▁·····"


# --- leads, asks, credit ---------------------------------------------------------------------
def test_leads_created_with_a_next_activity_and_won():
    def lead(i, created, status="open", closed=None, amount=None):
        return Lead(id=i, number=i, account="A", idea="i", owner_id=1, created_by_id=1, created_at=created,
                    status=status, closed_at=closed, amount_cents=amount, workspace_id=1)

    leads = [lead(1, week(1), "won", week(7), 12_000_000), lead(2, week(3)), lead(3, W.start - D),
             lead(4, week(4), "lost", week(5)), lead(5, week(5), "won", week(6))]
    f = metrics.lead_figures(leads, {2, 4}, W)
    assert f.created.total == 4 and f.created.weekly == (0, 1, 0, 1, 1, 1, 0, 0)
    assert (f.open, f.with_next_activity) == (2, 1)  # lead 3 is open too (made before the window)
    assert f.won.total == 2 and f.won.weekly == (0, 0, 0, 0, 0, 0, 1, 1) and f.amount_won_cents == 12_000_000


def test_asks_received_answered_and_time_to_first_response():
    def ask(i, created, status="open", first=None):
        return Ask(id=i, number=i, asker_id=2, person_id=1, request="r", created_at=created, status=status,
                   first_response_at=first, workspace_id=1)

    asks = [ask(1, week(1), "answered", week(1) + 4 * H), ask(2, week(3), "accepted", week(3) + 24 * H),
            ask(3, week(7)), ask(4, W.start - D, "answered", week(0) + H)]  # 4: asked before the window
    f = metrics.ask_figures(asks, W)
    assert (f.received.total, f.answered) == (3, 1)
    assert (f.first_response.value, f.first_response.count) == (24.0, 3)  # 4, 24 and 49 h
    assert sparkline(f.first_response.weekly) == "█▁·▄····"  # 24 h is 20/45 of the way from 4 to 49


def test_credit_is_the_persons_share_of_each_amount_in_the_window():
    wins = [Win(id=1, record="L-1", amount_cents=12_000_000, won_by_id=1, won_at=week(6), workspace_id=1),
            Win(id=2, record="H-1", amount_cents=None, won_by_id=1, won_at=week(7), workspace_id=1),
            Win(id=3, record="H-2", amount_cents=5_000_000, won_by_id=1, won_at=W.start - D, workspace_id=1)]
    credits = [(WinCredit(win_id=1, person_id=1, roles="originator,deliverer", share=0.8), wins[0]),
               (WinCredit(win_id=2, person_id=1, roles="contributor", share=0.1), wins[1]),
               (WinCredit(win_id=3, person_id=1, roles="originator", share=0.3), wins[2])]
    parts = {(1, 1): 9_600_000, (2, 1): None, (3, 1): 1_500_000}  # the credit report's cents of each win
    f = metrics.credit_figures(credits, W, parts)
    assert f.wins.total == 2 and f.amount_cents == 9_600_000 and f.without_amount == 1


# --- the sparkline ---------------------------------------------------------------------------
def test_sparkline_scales_between_the_lowest_and_highest_week_with_data():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10, 20, None, 15, 20, None, 10, 12]) == "▁█·▅█·▁▂"  # 15 is midway: rounded up
    assert sparkline([0.25, 0.75, 0.5]) == "▁█▅"


def test_sparkline_without_data_or_without_change():
    assert sparkline([None] * 8) == "········"
    assert sparkline([0, 0, None, 0]) == "▁▁·▁"
    assert sparkline([3, None, 3, 3]) == "▄·▄▄"
    assert sparkline([None, 0.5, None]) == "·▄·"


# --- coaching questions ------------------------------------------------------------------------
def test_coaching_asks_about_what_is_stuck_one_question_per_reference_and_never_more_than_three():
    bob, maria = Person(id=1, display_name="bob", workspace_id=1), Person(id=2, display_name="maria", workspace_id=1)
    stuck = handoff(NOW - 30 * D, number=3)  # given by bob, never accepted, and in its stage 30 days
    moving = handoff(NOW - 30 * D, accepted=NOW - 29 * D, stage="positioned", number=4)
    moving.stage_changed_at = NOW - 20 * D
    late = [commitment("open", due=NOW - 5 * D, number=8), commitment("open", due=NOW - D, number=9)]
    facts = rep_facts(bob, [stuck, moving], late, {}, [], [], NOW, timedelta(hours=48), timedelta(days=14))
    assert [h.number for h in facts.unaccepted] == [3] and [h.number for h in facts.stale] == [3, 4]
    assert [c.number for c in facts.overdue] == [8, 9]
    assert questions(facts, {1: bob, 2: maria}) == [
        "What would help maria accept H-3: is the need clear enough?",
        "What got in the way of C-8, and is the new date real?",
        "What is the next step that moves H-4 past positioned?",
    ]


def test_coaching_without_activity_or_when_all_is_well():
    leo = Person(id=5, display_name="leo", workspace_id=1)
    idle = RepFacts(leo, Activity())
    assert questions(idle, {}, ["maria", "sam"]) == [
        "Which partner rep (maria, sam) could leo bring a customer to this month?"]
    busy = RepFacts(leo, Activity(handoffs_given=2))
    assert questions(busy, {}) == ["What worked for leo that others could copy?"]
