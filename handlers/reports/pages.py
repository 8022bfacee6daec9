"""The dashboard's person page as plain data, computed by the very code of `report`
(scorecard.person_figures), so that the page and the chat never disagree; for a manager, the
coaching view of each person reporting to them (coaching.reports_coaching).

bot/ calls `person_page` and hands the result to adapters/web, which renders it; nothing here
knows about HTML or charts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.kernel.model import Card
from handlers.kernel.settings import SettingsLike
from handlers.reports import metrics
from handlers.reports.charts import FigureView, figure_view
from handlers.reports.coaching import reports_coaching
from handlers.reports.overview import week_labels
from handlers.reports.scorecard import person_figures, person_title
from storage.models import Person
from storage.store import Store


@dataclass(frozen=True)
class Coaching:
    person_id: int
    name: str
    card: Card  # the coaching card of `report P-n`'s managers, for this person across partnerships


@dataclass(frozen=True)
class PersonPage:
    person_id: int
    name: str
    title: str
    figures: tuple[FigureView, ...]  # each with its chart over the 8 weeks
    coaching: tuple[Coaching, ...] = ()  # one per direct report, when shown to their manager


async def person_page(store: Store, person_id: int, now: datetime, settings: SettingsLike | None = None,
                      tz: str = "UTC", *, coaching_for: int | None = None) -> PersonPage | None:
    """The scorecard of one person as of `now`; None when there is no such person. With
    `coaching_for` (the viewer) equal to the person, it adds the coaching of their direct reports."""
    person = await store.get(Person, person_id)
    if person is None:
        return None
    figures, _ = await person_figures(store, person, now)
    coaching: tuple[Coaching, ...] = ()
    if settings is not None and coaching_for == person.id:
        reps = await store.direct_reports(person.id)
        cards = await reports_coaching(store, reps, now, settings.cadence.handoffs, tz)
        coaching = tuple(Coaching(rep.id, rep.display_name, card) for rep, card in zip(reps, cards, strict=True))
    weeks = week_labels(metrics.Window(now))
    return PersonPage(person.id, person.display_name, person_title(person),
                      tuple(figure_view(f.label, f.value, weeks) for f in figures), coaching)
