"""The dashboard's person page as plain data, computed by the very code of `report`
(scorecard.person_figures), so that the page and the chat never disagree.

bot/ calls `person_page` and hands the result to adapters/web, which renders it; nothing here
knows about HTML or charts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.reports import metrics
from handlers.reports.scorecard import Trend, person_figures, person_title
from storage.models import Person
from storage.store import Store


@dataclass(frozen=True)
class PageFigure:
    label: str
    text: str  # what `report` says of it, without the sparkline
    weekly: tuple[float | None, ...]  # oldest week first; None: nothing to measure that week; () no trend
    is_rate: bool  # the weekly values are shares between 0 and 1 (shown as percentages)


@dataclass(frozen=True)
class PersonPage:
    person_id: int
    name: str
    title: str
    weeks: tuple[str, ...]  # the label of each week of `weekly`, e.g. "26 Oct"
    figures: tuple[PageFigure, ...]


def _figure(label: str, value: str | Trend) -> PageFigure:
    if isinstance(value, Trend):
        return PageFigure(label, value.text, value.weekly, value.bounds == (0.0, 1.0))
    return PageFigure(label, value, (), False)


async def person_page(store: Store, person_id: int, now: datetime) -> PersonPage | None:
    """The scorecard of one person as of `now`; None when there is no such person."""
    person = await store.get(Person, person_id)
    if person is None:
        return None
    figures, _ = await person_figures(store, person, now)
    window = metrics.Window(now)
    weeks = tuple(f"{start.day} {start:%b}" for start in (window.start + i * metrics.WEEK
                                                         for i in range(window.weeks)))
    return PersonPage(person.id, person.display_name, person_title(person), weeks,
                      tuple(_figure(f.label, f.value) for f in figures))
