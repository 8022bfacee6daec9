"""The routes under /app/ and what every response of them carries.

GET /app/signin/<token> uses a one-time link and sets the session cookie; GET /app/ is the
signed-in person's own page; GET /app/logout ends the session. Anything without a live session,
or not theirs to see, is a 404 like a page that does not exist: a 403 would confirm it does.
"""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from adapters.web.charts import chart_svg, value_text

PREFIX = "/app"
COOKIE = "partnerbot_session"
SESSION_SECONDS = 8 * 3600
_JINJA = web.AppKey("dashboard_jinja", jinja2.Environment)
_NONCE = web.RequestKey("dashboard_nonce", str)
NOT_FOUND = "Not found. Send `dashboard` to Partnerbot for a new sign-in link."


@dataclass(frozen=True)
class Backend:
    """What the pages need from the rest of Partnerbot, passed in by bot/ (each call its own transaction)."""

    sign_in: Callable[[str], Awaitable[str | None]]  # a link's token -> a new session's token, or None
    person_of: Callable[[str], Awaitable[int | None]]  # a session's token -> its person's id, or None
    end_session: Callable[[str], Awaitable[Any]]
    person_page: Callable[[int], Awaitable[Any | None]]  # a person's id -> their page's figures (reports.pages)


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
        response = web.Response(status=refused.status, text=NOT_FOUND if refused.status == 404 else refused.reason)
    response.headers.update(_security_headers(nonce))
    return response


def _not_found() -> web.Response:
    return web.Response(status=404, text=NOT_FOUND)


class Dashboard:
    def __init__(self, backend: Backend, *, secure_cookie: bool):
        self.backend, self.secure_cookie = backend, secure_cookie

    def install(self, app: web.Application) -> None:
        app.middlewares.append(_headers)
        aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("adapters.web", "templates"),
                             autoescape=jinja2.select_autoescape(default=True), app_key=_JINJA)
        app.router.add_get(PREFIX + "/signin/{token}", self.signin)
        app.router.add_get(PREFIX + "/", self.home)
        app.router.add_get(PREFIX + "/logout", self.logout)

    async def signin(self, request: web.Request) -> web.StreamResponse:
        session = await self.backend.sign_in(request.match_info["token"])
        if session is None:
            return _not_found()
        response = web.Response(status=303, headers={"Location": PREFIX + "/"})
        response.set_cookie(COOKIE, session, max_age=SESSION_SECONDS, path=PREFIX, httponly=True,
                            samesite="Lax", secure=self.secure_cookie)
        return response

    async def _person(self, request: web.Request) -> int | None:
        session = request.cookies.get(COOKIE)
        return await self.backend.person_of(session) if session else None

    async def home(self, request: web.Request) -> web.StreamResponse:
        person_id = await self._person(request)
        page = await self.backend.person_page(person_id) if person_id is not None else None
        if page is None:
            return _not_found()
        nonce = request[_NONCE]
        figures = []
        for i, figure in enumerate(page.figures, start=1):
            svg = Markup(chart_svg(f"chart-{i}", figure.label, figure.text, page.weeks, figure.weekly,
                                   figure.is_rate, nonce)) if figure.weekly else None
            figures.append({"label": figure.label, "text": figure.text, "svg": svg,
                            "cells": [value_text(v, figure.is_rate) for v in figure.weekly]})
        return aiohttp_jinja2.render_template("person.html", request, {
            "page": page, "weeks": page.weeks, "figures": figures, "nonce": nonce}, app_key=_JINJA)

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = request.cookies.get(COOKIE)
        if session is None or await self.backend.person_of(session) is None:
            return _not_found()
        await self.backend.end_session(session)
        response = web.Response(text="Signed out of the Partnerbot dashboard. Send `dashboard` for a new link.")
        response.del_cookie(COOKIE, path=PREFIX)
        return response
