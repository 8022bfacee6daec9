"""The credit split of a win (SPEC §4), worked out by hand: originator ana (1), deliverer
bob (2), contributors carl (3) and dana (4)."""
import math

import pytest

from handlers.wins.credit import Credit, Shares, amounts, percent, split

ANA, BOB, CARL, DANA = 1, 2, 3, 4
DEFAULTS = Shares(0.3, 0.5, 0.2)


def shares_of(credits: list[Credit]) -> dict[int, float]:
    return {c.person_id: c.share for c in credits}


def assert_whole(credits: list[Credit]) -> None:
    assert math.isclose(sum(c.share for c in credits), 1.0, abs_tol=1e-12)


def test_defaults_with_two_contributors_split_their_fifth_equally():
    credits = split(ANA, BOB, [CARL, DANA], DEFAULTS)
    assert [(c.person_id, c.roles) for c in credits] == [
        (BOB, ("deliverer",)), (ANA, ("originator",)), (CARL, ("contributor",)), (DANA, ("contributor",))]
    assert [round(c.share, 12) for c in credits] == [0.5, 0.3, 0.1, 0.1]
    assert_whole(credits)


def test_an_originator_who_also_delivers_gets_both_shares_in_one_credit():
    credits = split(ANA, ANA, [CARL], DEFAULTS)
    assert [(c.person_id, c.roles, round(c.share, 12)) for c in credits] == [
        (ANA, ("originator", "deliverer"), 0.8), (CARL, ("contributor",), 0.2)]
    assert_whole(credits)


def test_an_originator_who_kept_a_commitment_is_also_a_contributor():
    credits = split(ANA, BOB, [CARL, ANA], DEFAULTS)
    assert [(c.person_id, c.roles, round(c.share, 12)) for c in credits] == [
        (BOB, ("deliverer",), 0.5), (ANA, ("originator", "contributor"), 0.4), (CARL, ("contributor",), 0.1)]
    assert_whole(credits)


def test_a_contributor_named_twice_counts_once():
    assert shares_of(split(ANA, BOB, [CARL, CARL], DEFAULTS))[CARL] == pytest.approx(0.2)


def test_without_contributors_their_share_goes_to_originator_and_deliverer_in_proportion():
    credits = split(ANA, BOB, [], DEFAULTS)
    # 0.3 + 0.2 × 3/8 = 0.375 and 0.5 + 0.2 × 5/8 = 0.625
    assert [(c.person_id, round(c.share, 12)) for c in credits] == [(BOB, 0.625), (ANA, 0.375)]
    assert_whole(credits)


def test_one_person_alone_gets_the_whole_win():
    credits = split(ANA, ANA, [], DEFAULTS)
    assert [(c.person_id, c.roles) for c in credits] == [(ANA, ("originator", "deliverer"))]
    assert_whole(credits)


def test_custom_shares_20_60_20():
    credits = split(ANA, BOB, [CARL, DANA], Shares(0.2, 0.6, 0.2))
    assert [(c.person_id, round(c.share, 12)) for c in credits] == [(BOB, 0.6), (ANA, 0.2), (CARL, 0.1), (DANA, 0.1)]
    assert_whole(credits)


def test_custom_shares_50_50_0_credit_nobody_for_contributing():
    credits = split(ANA, BOB, [CARL], Shares(0.5, 0.5, 0.0))
    # a tie is broken by role: the originator comes first
    assert [(c.person_id, c.roles, round(c.share, 12)) for c in credits] == [
        (ANA, ("originator",), 0.5), (BOB, ("deliverer",), 0.5)]
    assert_whole(credits)


def test_only_contributors_configured_and_none_present_halves_the_win():
    assert [(c.person_id, round(c.share, 12)) for c in split(ANA, BOB, [], Shares(0, 0, 1))] == [(ANA, 0.5), (BOB, 0.5)]


def test_shares_that_do_not_add_up_to_one_are_taken_relative_to_their_sum():
    credits = split(ANA, BOB, [CARL], Shares(3, 5, 2))
    assert [round(c.share, 12) for c in credits] == [0.5, 0.3, 0.2]


@pytest.mark.parametrize("contributors", [[], [CARL], [CARL, DANA], [CARL, DANA, 5], list(range(3, 10)), [ANA, BOB]])
@pytest.mark.parametrize("shares", [DEFAULTS, Shares(0.2, 0.6, 0.2), Shares(0.5, 0.5, 0), Shares(0.1, 0.1, 0.8)])
def test_the_shares_of_a_win_always_add_up_to_one(contributors, shares):
    credits = split(ANA, BOB, contributors, shares)
    assert_whole(credits)
    assert len({c.person_id for c in credits}) == len(credits)  # one credit per person


def test_the_order_is_deterministic_whatever_order_the_contributors_come_in():
    three = [CARL, DANA, 5]
    assert [c.person_id for c in split(ANA, BOB, three, DEFAULTS)] == [BOB, ANA, CARL, DANA, 5]
    assert [c.person_id for c in split(ANA, BOB, three[::-1], DEFAULTS)] == [BOB, ANA, 5, DANA, CARL]


def test_negative_shares_are_a_configuration_error():
    with pytest.raises(ValueError, match="negative"):
        split(ANA, BOB, [CARL], Shares(-0.1, 0.9, 0.2))
    with pytest.raises(ValueError, match="nothing"):
        split(ANA, BOB, [CARL], Shares(0, 0, 0))


def test_amounts_are_whole_cents_that_add_up_to_the_amount_won():
    credits = split(ANA, BOB, [CARL, DANA, 5], DEFAULTS)  # contributors 6.67% each
    cents = amounts(credits, 100_000_00)
    assert cents == [50_000_00, 30_000_00, 6_666_67, 6_666_67, 6_666_66]
    assert sum(cents) == 100_000_00
    assert amounts(split(ANA, BOB, [CARL], DEFAULTS), 120_000_00) == [60_000_00, 36_000_00, 24_000_00]


@pytest.mark.parametrize("share, text", [(0.3, "30%"), (0.375, "37.5%"), (0.2 / 3, "6.7%"), (1.0, "100%"),
                                         (0.625, "62.5%"), (0.1 + 0.2, "30%")])
def test_percent_has_at_most_one_decimal(share, text):
    assert percent(share) == text
