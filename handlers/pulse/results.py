"""The results of a health pulse: each side's averages and comments, and the imbalances
between the sides (a dimension 2 points or more apart). Pure: no database here."""
from __future__ import annotations

import calendar
from decimal import ROUND_HALF_UP, Decimal

from handlers.kernel.dates import format_instant
from handlers.kernel.model import Card, Fact, Reply
from storage.models import Partnership, Person, Pulse, PulseAnswer

DIMENSIONS = (
    ("risk", "Shared risk"),
    ("resources", "Shared resources"),
    ("rewards", "Shared rewards"),
    ("vision", "Shared vision"),
    ("values", "Shared values"),
)
COMMENT = "comment"
SCALE = "1 (poor) to 5 (strong)"
IMBALANCE_GAP = Decimal(2)  # sides this far apart on a dimension: an imbalance
SIDES = ("a", "b")
_COMMENT_SHOWN = 500  # characters of one comment in the results


def period_label(pulse: Pulse, tz: str) -> str:
    if len(pulse.period) == 7:  # YYYY-MM
        year, month = pulse.period.split("-")
        return f"{calendar.month_name[int(month)]} {year}"
    return f"asked for {format_instant(pulse.opened_at, tz)}"


def withheld(answered: int, asked: int, min_answers: int) -> str | None:
    """The pulse's one anonymity rule, for its results message, `report P-n` and the export alike:
    a side's averages and comments are shown only when at least `min_answers`
    (cadence.pulse.min_answers) of its members answered. None when they may be shown, else what
    is said instead."""
    if answered >= max(min_answers, 1):
        return None
    return f"too few answers to show ({answered} of {asked})"


class SideSummary:
    """One side's part of a pulse: how many were asked and answered, its averages (one
    decimal, rounded half up) and its answerers' comments; the averages and comments stay
    empty, and `withheld` says why, when too few answered to keep them anonymous."""

    def __init__(self, answers: list[PulseAnswer], min_answers: int):
        answered = [a for a in answers if a.answered_at]
        self.asked, self.answered = len(answers), len(answered)
        self.withheld = withheld(self.answered, self.asked, min_answers)
        self.averages: dict[str, Decimal] = {}
        self.comments: list[str] = []
        if self.withheld is not None:
            return
        for dim, _ in DIMENSIONS:
            total = sum(int(a.scores[dim]) for a in answered)
            self.averages[dim] = (Decimal(total) / len(answered)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        self.comments = [a.comment for a in sorted(answered, key=lambda a: a.answered_at) if a.comment]

    @property
    def count_text(self) -> str:
        """'3 of 5 answered', or 'too few answers to show (2 of 5)'."""
        return self.withheld or f"{self.answered} of {self.asked} answered"


def side_summary(answers: list[PulseAnswer], min_answers: int) -> dict[str, SideSummary]:
    return {side: SideSummary([a for a in answers if a.side == side], min_answers) for side in SIDES}


def imbalances(summary: dict[str, SideSummary]) -> list[tuple[str, str, Decimal]]:
    """(dimension, label, gap) where the sides' averages, as shown, differ by 2 or more;
    none while a side's averages are not shown."""
    a, b = summary["a"].averages, summary["b"].averages
    if not a or not b:
        return []
    gaps = [(dim, label, abs(a[dim] - b[dim])) for dim, label in DIMENSIONS]
    return [g for g in gaps if g[2] >= IMBALANCE_GAP]


def _shown(comment: str) -> str:
    text = " ".join(comment.split())
    return text if len(text) <= _COMMENT_SHOWN else text[:_COMMENT_SHOWN - 1] + "…"


def build_results(pulse: Pulse, p: Partnership, answers: list[PulseAnswer], managers: dict[str, Person],
                  tz: str, min_answers: int) -> Reply:
    summary = side_summary(answers, min_answers)
    # a side is named by its manager, whoever answered: the name says nothing of who did
    names = {s: f"Side {s.upper()} ({managers[s].display_name})" if s in managers else f"Side {s.upper()}"
             for s in SIDES}
    title = f"Health pulse · {p.ref} {p.name} · {period_label(pulse, tz)}"
    counts = " ".join(f"{names[s]}: {summary[s].count_text}." for s in SIDES)
    silent = [names[s] for s in SIDES if summary[s].answered == 0]
    hidden = [names[s] for s in SIDES if summary[s].withheld]
    flagged = imbalances(summary)
    if len(silent) == 2:
        verdict = "Nobody answered this pulse."
    elif hidden:
        verdict = f"{' and '.join(hidden)}: too few answers to show, so no imbalance can be computed."
    elif flagged:
        verdict = "Imbalance: " + "; ".join(
            f"{label.lower()} (A {summary['a'].averages[dim]}, B {summary['b'].averages[dim]}, gap {gap})"
            for dim, label, gap in flagged) + ". Worth talking through at the next peer sync."
    else:
        verdict = "No imbalance: the sides are less than 2 points apart on every dimension."
    cards = [Card(title=title, text=f"{counts}\n{verdict}")]

    flagged_dims = {dim for dim, _, _ in flagged}
    facts = []
    for dim, label in DIMENSIONS:
        value = " · ".join(f"{s.upper()} {summary[s].averages.get(dim, '—')}" for s in SIDES)
        facts.append(Fact(label, value + (" · imbalance" if dim in flagged_dims else "")))
    cards.append(Card(title=f"Averages, {SCALE}", facts=tuple(facts)))

    if flagged:  # what each side said, next to the gap it felt
        for s in SIDES:
            text = "\n".join(f"• {_shown(c)}" for c in summary[s].comments) or "No comments."
            cards.append(Card(title=f"Comments · {names[s]}", text=text))
    return Reply.of_cards(*cards, sections=True)
