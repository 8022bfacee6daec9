"""Charts as plain data: what a chart shows (its x labels and one or more series), not how. The
dashboard (adapters/web/charts.py) draws them; the figures come from the read model beside this."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # one per x label; None: nothing to measure there


@dataclass(frozen=True)
class Chart:
    label: str  # its title
    text: str  # what it says in words (the figure's text), the start of its description
    x: tuple[str, ...]
    series: tuple[Series, ...]
    is_rate: bool = False  # values are shares between 0 and 1, shown as percentages
    y_max: float | None = None  # a fixed top (a pulse's 5), else from the values


def weekly_chart(label: str, text: str, weeks: tuple[str, ...], weekly: tuple[float | None, ...],
                 is_rate: bool) -> Chart:
    return Chart(label, text, weeks, (Series(label, tuple(weekly)),), is_rate)


@dataclass(frozen=True)
class FigureView:
    """A figure of a scorecard as a page shows it: its label, what `report` says of it (without the
    sparkline) and its weekly chart (None when it has no trend)."""

    label: str
    text: str
    chart: Chart | None


def figure_view(label: str, value, weeks: tuple[str, ...]) -> FigureView:
    """A scorecard figure's value (its text, or a scorecard.Trend) with its chart over `weeks`."""
    if isinstance(value, str) or not value.weekly:
        return FigureView(label, str(value) if isinstance(value, str) else value.text, None)
    return FigureView(label, value.text, weekly_chart(label, value.text, weeks, value.weekly,
                                                      value.bounds == (0.0, 1.0)))
