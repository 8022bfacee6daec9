"""`report` says when it lists only the first open commitments; a rate of a single week at
100% is drawn at full height."""
from handlers.reports.sparkline import sparkline


def _fact(reply, label: str) -> str:
    (value,) = [f.value for f in reply.cards[0].facts if f.label == label]
    return value


async def test_the_own_report_says_it_lists_only_the_first_ten_open_commitments(chat):
    for n in range(1, 13):
        await chat.say("ana", f"commit task {n} by in {n} days")
    reply = await chat.say("ana", "report")
    assert "Your open commitments (the first 10 of 12, soonest due; `list mine` shows more):" in reply.text
    assert "C-10 · task 10" in reply.text and "C-11" not in reply.text
    assert len(reply.cards) == 11  # the scorecard and ten Done cards


async def test_the_own_report_of_ten_or_fewer_says_nothing_more(chat):
    for n in range(1, 11):
        await chat.say("ana", f"commit task {n} by in {n} days")
    assert "Your open commitments:\nC-1 · task 1" in (await chat.say("ana", "report")).text


async def test_a_single_week_kept_at_100_percent_is_drawn_full_height(chat):
    await chat.say("ana", "commit a by fri")
    await chat.say("ana", "done C-1")
    assert _fact(await chat.say("ana", "report"), "Kept on time") == "100% (1 of 1 kept on time) ·······█"


def test_a_flat_trend_with_bounds_is_placed_on_them_and_without_bounds_is_unchanged():
    assert sparkline([None, 1.0], (0.0, 1.0)) == "·█"
    assert sparkline([0.0, None, 0.0], (0.0, 1.0)) == "▁·▁"
    assert sparkline([None, 0.5], (0.0, 1.0)) == "·▅"
    assert sparkline([None, 0.5]) == "·▄"
    assert sparkline([0.5, 1.0], (0.0, 1.0)) == "▁█"  # with change: scaled between its weeks as before
