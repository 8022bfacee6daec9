"""What each dashboard page shows a signed-in person, scoped by policy.DashboardView: a page out
of their scope is None, which the web answers as a 404 like a page that does not exist.

bot/ wires these into adapters/web; each call runs in one transaction of its own.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.kernel.dates import format_instant
from handlers.kernel.settings import SettingsLike
from handlers.partnerships.policy import DashboardView
from handlers.reports import credit_report, leaders, overview, pages, partnership_page


def overview_shown(page: overview.Overview, refreshing: bool, settings: SettingsLike) -> overview.Overview:
    """The overview as the page says it: as of when, on the workspace's clock, and whether newer
    figures are being computed (overview_snapshot.OverviewSnapshots gives both)."""
    return replace(page, as_of_text=format_instant(page.as_of, settings.timezone), refreshing=refreshing)


async def partnership(store, view: DashboardView, partnership_id: int, now: datetime,
                      settings: SettingsLike) -> partnership_page.PartnershipPage | None:
    if not view.may_see_partnership(partnership_id):
        return None
    page = await partnership_page.partnership_page(store, partnership_id, now, settings, settings.timezone)
    if page is None:
        return None
    # a member's name links to their page only when the viewer may open it (no link to a 404)
    sides = tuple((side, tuple(replace(m, linked=view.may_see_person(m.person_id)) for m in members))
                  for side, members in page.sides)
    return replace(page, sides=sides)


async def person(store, view: DashboardView, person_id: int, now: datetime,
                 settings: SettingsLike) -> pages.PersonPage | None:
    if not view.may_see_person(person_id):
        return None
    return await pages.person_page(store, person_id, now, settings, settings.timezone, coaching_for=view.viewer_id)


async def leaders_page(store, view: DashboardView, now: datetime,
                       settings: SettingsLike) -> tuple[leaders.LeaderRow, ...] | None:
    if not view.may_see_leaders:
        return None
    return await leaders.leaders(store, view, now, settings)


async def credit(store, view: DashboardView, start: str | None, end: str | None, now: datetime,
                 settings: SettingsLike) -> credit_report.CreditReport | None:
    """None when the viewer may not see credit; ValueError (what is wrong) for a bad period."""
    if not view.may_see_credit:
        return None
    first, last = credit_report.period(start, end, now.astimezone(ZoneInfo(settings.timezone)).date())
    return await credit_report.credit_report(store, view, first, last, settings.timezone)


def credit_csv(report: credit_report.CreditReport) -> str:
    return credit_report.credit_csv(report)

