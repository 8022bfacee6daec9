"""GET /calendar/{token}.ics: a meeting series or a peer sync as a calendar subscription.

Calendars poll the link (Google every few hours, Outlook about as often), so a change of the
series reaches them on their next poll. The link is the only credential: a malformed, unknown or
revoked token, or one whose person left the partnership, gets the same 404, so a guesser learns
nothing. Read in a read-only transaction (Database.reading): a poll never holds a command up.
"""
from __future__ import annotations

from aiohttp import web

from handlers.kernel.dispatch import Clock
from handlers.meetings import calendar
from storage.db import Database

NOT_FOUND = "No calendar here: the link is wrong, was revoked, or its holder left the partnership.\n"


class CalendarFeedDownload:
    def __init__(self, db: Database, clock: Clock, public_url: str):
        self.db, self.clock, self.public_url = db, clock, public_url

    async def handle(self, request: web.Request) -> web.Response:
        async with self.db.reading() as store:
            feed = await calendar.feed(store, request.match_info["token"], self.clock(), self.public_url)
        if feed is None:
            return web.Response(status=404, text=NOT_FOUND, headers={"Cache-Control": "no-store"})
        return web.Response(body=feed.body, headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'inline; filename="{feed.filename}"',
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
        })
