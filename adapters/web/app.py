"""The routes under /app/ and what every response of them carries.

GET /app/signin/<token> uses a one-time link and sets the session cookie; GET /app/ is the
overview of the partnerships in the session's scope, /app/partnerships/<id> one of them,
/app/people/<id> a person's scorecard, /app/leaders and /app/credit (with its CSV) what a manager
or executive may see; GET /app/logout ends the session. Anything without a live session, or not
theirs to see, is a 404 like a page that does not exist: a 403 would confirm it does.

The pages get plain data from the read model (handlers/reports) through `Backend` and only
arrange it: which text goes in which cell, how a table is sorted, the charts drawn from it.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from adapters.web import chart_kinds
from adapters.web.charts import chart_svg, value_text
from handlers.kernel.text import amount_text

PREFIX = "/app"
COOKIE = "partnerbot_session"
SESSION_SECONDS = 8 * 3600
_JINJA = web.AppKey("dashboard_jinja", jinja2.Environment)
_NONCE = web.RequestKey("dashboard_nonce", str)
# the same page for every 404, whether the thing is missing or not the viewer's: a way back and how
# to sign in again, nothing about what was asked for
NOT_FOUND_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found · Partnerbot</title>'
                   '</head><body><h1>Not found</h1><p><a href="/app/">Back to the dashboard</a>. Signed out? Send '
                   '<code>dashboard</code> to Partnerbot for a new sign-in link.</p></body></html>')


@dataclass(frozen=True)
class Backend:
    """What the pages need from the rest of Partnerbot, passed in by bot/ (each call its own
    transaction). A `view` is what one session may see (handlers.partnerships.policy.DashboardView:
    viewer_id, whole_workspace, may_see_leaders, may_see_credit); a page out of it comes back None."""

    sign_in: Callable[[str], Awaitable[str | None]]  # a link's token -> a new session's token, or None
    view_of: Callable[[str], Awaitable[Any | None]]  # a session's token -> its view, or None
    end_session: Callable[[str], Awaitable[Any]]
    overview: Callable[[Any, bool], Awaitable[Any]]  # view, refresh now? -> reports.overview.Overview
    partnership_page: Callable[[Any, int], Awaitable[Any | None]]  # view, id -> reports.partnership_page
    person_page: Callable[[Any, int], Awaitable[Any | None]]  # view, id -> reports.pages.PersonPage
    leaders: Callable[[Any], Awaitable[Any | None]]  # view -> tuple of reports.leaders.LeaderRow
    # view, from, to (YYYY-MM-DD or None) -> reports.credit_report.CreditReport; ValueError: a bad period
    credit: Callable[[Any, str | None, str | None], Awaitable[Any | None]]
    # the same as CSV: (its first day, its last day, the CSV text)
    credit_csv: Callable[[Any, str | None, str | None], Awaitable[tuple[date, date, str] | None]]


def _security_headers(nonce: str) -> dict[str, str]:
    return {
        # no script at all; styles only from this site or the nonce of this response's <style> elements
        "Content-Security-Policy": (f"default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
                                    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


@web.middleware
async def _headers(request: web.Request, handler) -> web.StreamResponse:
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)
    request[_NONCE] = nonce = secrets.token_urlsafe(16)
    try:
        response = await handler(request)
    except web.HTTPException as refused:  # the router's 404 and 405 under /app/ too
        response = _not_found() if refused.status == 404 else web.Response(status=refused.status, text=refused.reason)
    response.headers.update(_security_headers(nonce))
    return response


def _not_found() -> web.Response:
    return web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html")


# --- what the templates get: each chart drawn, with the rows of its data table ----------------
@dataclass(frozen=True)
class Drawn:
    label: str
    text: str  # what it says in words
    svg: Markup
    corner: str  # the data table's first header: what its columns are ("Week of", "Stage")
    x: Sequence[str]
    rows: Sequence[tuple[str, Sequence[str]]]  # (series, the text of each value)


def _weekly(chart_id: str, label: str, text: str, weeks: Sequence[str], weekly: Sequence[float | None],
            is_rate: bool, nonce: str) -> Drawn:
    return Drawn(label, text, Markup(chart_svg(chart_id, label, text, weeks, weekly, is_rate, nonce)), "Week of",
                 weeks, [(label, [value_text(v, is_rate) for v in weekly])])


def _figures(figures: Sequence[Any], prefix: str, nonce: str) -> list[dict]:
    """Each figure (reports.charts.FigureView) with its weekly chart drawn, ids `<prefix>-1`, `-2`…"""
    drawn = []
    for i, f in enumerate(figures, start=1):
        c = f.chart
        chart = _weekly(f"{prefix}-{i}", f.label, f.text, c.x, c.series[0].values, c.is_rate, nonce) if c else None
        drawn.append({"label": f.label, "text": f.text, "chart": chart})
    return drawn


def _grouped(chart_id: str, chart: Any, corner: str, nonce: str) -> Drawn:
    return Drawn(chart.label, chart.text, Markup(chart_kinds.grouped_bars_svg(chart_id, chart, nonce)), corner, chart.x,
                 chart_kinds.table_rows(chart))


# --- the overview's order: by any column, without JavaScript ------------------------------------
DEFAULT_SORT = "attention"  # the read model's order: needs attention first


def _number(row: Any, key: str) -> float | None:
    return row.health.number if key == "health" else row.cells[key].number


def sort_rows(rows: Sequence[Any], keys: Sequence[str], sort: str | None,
              order: str | None) -> tuple[list[Any], str, str]:
    """The rows in the order asked for, and the (sort, order) applied: an unknown sort is the
    read model's order, an unknown order the sort's own (names A to Z, figures largest first);
    a row without a number is last whichever way."""
    if sort not in ("partnership", "health", *keys, DEFAULT_SORT):
        sort, order = DEFAULT_SORT, None
    if order not in ("asc", "desc"):
        order = "asc" if sort == "partnership" else "desc"
    descending = order == "desc"
    if sort == DEFAULT_SORT:
        return (list(rows) if descending else list(reversed(rows))), sort, order
    if sort == "partnership":
        return sorted(rows, key=lambda r: r.name.lower(), reverse=descending), sort, order
    known = sorted((r for r in rows if _number(r, sort) is not None), key=lambda r: _number(r, sort),
                   reverse=descending)
    return known + [r for r in rows if _number(r, sort) is None], sort, order


def _headers_of(columns: Sequence[tuple[str, str]], sort: str, order: str) -> list[dict]:
    """Each column's header: a link to sort by it (the other way when it is the sort already)."""
    headers = []
    for key, label in columns:
        if key == sort:
            next_order = "asc" if order == "desc" else "desc"
            aria = "descending" if order == "desc" else "ascending"
        else:
            next_order, aria = ("asc" if key == "partnership" else "desc"), None
        headers.append({"key": key, "label": label, "aria_sort": aria,
                        "href": "?" + urlencode({"sort": key, "order": next_order})})
    return headers


# --- the credit report's cells ------------------------------------------------------------------
def money(cents: int | None) -> str:
    return "—" if cents is None else amount_text(cents)


def share_text(share: float) -> str:
    """0.5 -> '50%', 1/3 -> '33.3%': at most one decimal."""
    return f"{share * 100:.1f}".removesuffix(".0") + "%"


def credit_rows_html(report: Any) -> Markup:
    """The rows of the credit table, one per credited person of each win, the win's cells repeated
    on each. Written here rather than by a template loop: a quarter has some 10,000 lines, and the
    page took 720 ms with the loop, 330 ms of them computing the report; every cell is escaped all
    the same."""
    rows = []
    for win in report.wins:
        cells = (f'<td class="text">{escape(win.record)}</td><td class="text">{escape(win.account)}</td>'
                 f'<td class="text">{win.won_on.isoformat()}</td><td>{escape(money(win.amount_cents))}</td>')
        for i, credit in enumerate(win.credits or (None,)):
            first = ' class="win-first"' if i == 0 else ""
            if credit is None:
                person = '<td class="text">nobody credited</td><td class="text"></td><td></td><td></td>'
            else:
                person = (f'<td class="text">{escape(credit.name)}</td><td class="text">{escape(credit.roles)}</td>'
                          f'<td>{share_text(credit.share)}</td><td>{escape(money(credit.cents))}</td>')
            rows.append(f"<tr{first}>{cells}{person}</tr>")
    return Markup("\n".join(rows))


_NUMBERED = re.compile(r"\s*\d+[.)]\s+(.*)")


def coaching_text(text: str) -> tuple[list[str], list[str]]:
    """A coaching card's text as (its sentences, its numbered questions)."""
    said, questions = [], []
    for line in (line.strip() for line in text.splitlines()):
        numbered = _NUMBERED.fullmatch(line)
        if numbered:
            questions.append(numbered.group(1))
        elif line:
            said.append(line)
    return said, questions


class Dashboard:
    def __init__(self, backend: Backend, *, secure_cookie: bool):
        self.backend, self.secure_cookie = backend, secure_cookie

    def install(self, app: web.Application) -> None:
        app.middlewares.append(_headers)
        aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("adapters.web", "templates"),
                             autoescape=jinja2.select_autoescape(default=True), app_key=_JINJA)
        app.router.add_get(PREFIX + "/signin/{token}", self.signin)
        app.router.add_get(PREFIX + "/", self.overview)
        app.router.add_get(PREFIX + "/partnerships/{id:\\d+}", self.partnership)
        app.router.add_get(PREFIX + "/people/{id:\\d+}", self.person)
        app.router.add_get(PREFIX + "/leaders", self.leaders)
        app.router.add_get(PREFIX + "/credit", self.credit)
        app.router.add_get(PREFIX + "/credit.csv", self.credit_csv)
        app.router.add_get(PREFIX + "/logout", self.logout)

    async def signin(self, request: web.Request) -> web.StreamResponse:
        session = await self.backend.sign_in(request.match_info["token"])
        if session is None:
            return _not_found()
        response = web.Response(status=303, headers={"Location": PREFIX + "/"})
        response.set_cookie(COOKIE, session, max_age=SESSION_SECONDS, path=PREFIX, httponly=True,
                            samesite="Lax", secure=self.secure_cookie)
        return response

    async def _view(self, request: web.Request) -> Any | None:
        session = request.cookies.get(COOKIE)
        return await self.backend.view_of(session) if session else None

    def _render(self, request: web.Request, template: str, view: Any, page: str, context: dict,
                status: int = 200) -> web.Response:
        """A page in the layout: its nav marks `page` as the current one."""
        response = aiohttp_jinja2.render_template(template, request, {
            **context, "view": view, "current": page, "nonce": request[_NONCE]}, app_key=_JINJA)
        response.set_status(status)
        return response

    async def overview(self, request: web.Request) -> web.StreamResponse:
        view = await self._view(request)
        if view is None:
            return _not_found()
        page = await self.backend.overview(view, request.query.get("refresh") == "1")
        columns = self._overview_columns(page)
        keys = [key for key, _ in columns[2:-1]]
        rows, sort, order = sort_rows(page.rows, keys, request.query.get("sort"), request.query.get("order"))
        trends = _figures(page.trends, "trend", request[_NONCE])
        return self._render(request, "overview.html", view, "overview", {
            "rows": rows, "keys": keys, "headers": _headers_of(columns, sort, order), "trends": trends,
            "as_of": page.as_of_text, "refreshing": page.refreshing,
            "refresh_href": "?" + urlencode({"sort": sort, "order": order, "refresh": "1"})})

    @staticmethod
    def _overview_columns(page: Any) -> list[tuple[str, str]]:
        return [("partnership", "Partnership"), ("health", "Health"), *page.columns, (DEFAULT_SORT, "Needs attention")]

    async def partnership(self, request: web.Request) -> web.StreamResponse:
        view = await self._view(request)
        if view is None:
            return _not_found()
        page = await self.backend.partnership_page(view, int(request.match_info["id"]))
        if page is None:
            return _not_found()
        nonce = request[_NONCE]
        return self._render(request, "partnership.html", view, "overview", {
            "page": page, "figures": _figures(page.figures, "chart", nonce),
            "funnels": [_grouped(f"funnel-{i}", c, "Stage", nonce) for i, c in enumerate(page.funnels, start=1)],
            "pulse": [_grouped(f"pulse-{i}", c, "Pulse of", nonce) for i, c in enumerate(page.pulse, start=1)]})

    async def person(self, request: web.Request) -> web.StreamResponse:
        view = await self._view(request)
        if view is None:
            return _not_found()
        page = await self.backend.person_page(view, int(request.match_info["id"]))
        if page is None:
            return _not_found()
        figures = _figures(page.figures, "chart", request[_NONCE])
        coaching = [{"person_id": c.person_id, "name": c.name, "facts": c.card.facts,
                     "text": coaching_text(c.card.text)} for c in page.coaching]
        return self._render(request, "person.html", view, "me" if page.person_id == view.viewer_id else "person",
                            {"page": page, "figures": figures, "coaching": coaching})

    async def leaders(self, request: web.Request) -> web.StreamResponse:
        view = await self._view(request)
        rows = await self.backend.leaders(view) if view is not None else None
        if rows is None:
            return _not_found()
        return self._render(request, "leaders.html", view, "leaders", {"rows": rows})

    async def credit(self, request: web.Request) -> web.StreamResponse:
        view = await self._view(request)
        if view is None:
            return _not_found()
        start, end = request.query.get("from") or None, request.query.get("to") or None
        try:
            report = await self.backend.credit(view, start, end)
        except ValueError as bad:
            return self._render(request, "credit.html", view, "credit",
                                {"error": str(bad).rstrip("."), "start": start or "", "end": end or ""}, status=400)
        if report is None:
            return _not_found()
        period = {"from": report.start.isoformat(), "to": report.end.isoformat()}
        return self._render(request, "credit.html", view, "credit", {
            "report": report, "start": period["from"], "end": period["to"], "rows_html": credit_rows_html(report),
            "credited": money(sum(line.cents or 0 for win in report.wins for line in win.credits)),
            "amount": money(report.amount_cents), "money": money,
            "csv": f"{PREFIX}/credit.csv?{urlencode(period)}"})

    async def credit_csv(self, request: web.Request) -> web.StreamResponse:
        view = await self._view(request)
        if view is None:
            return _not_found()
        start, end = request.query.get("from") or None, request.query.get("to") or None
        try:
            csv = await self.backend.credit_csv(view, start, end)
        except ValueError as bad:
            return web.Response(status=400, text=str(bad))
        if csv is None:
            return _not_found()
        first, last, text = csv
        name = f"partnerbot-credit-{first.isoformat()}-{last.isoformat()}.csv"
        return web.Response(text=text, content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = request.cookies.get(COOKIE)
        if session is None or await self.backend.view_of(session) is None:
            return _not_found()
        await self.backend.end_session(session)
        response = web.Response(text="Signed out of the Partnerbot dashboard. Send `dashboard` for a new link.")
        response.del_cookie(COOKIE, path=PREFIX)
        return response
