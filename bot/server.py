"""`partnerbot serve`: the aiohttp application, with the outbox sender and scheduler in-process."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

from aiohttp import web
from sqlalchemy import text

from adapters.web.app import Dashboard
from bot.calendar import CalendarFeedDownload
from bot.exports import ExportDownload
from bot.scheduler import start_scheduler
from bot.wiring import Partnerbot

log = logging.getLogger(__name__)

SENDER_STOP_GRACE_SECONDS = 10  # well under the 30 s Kubernetes waits between SIGTERM and SIGKILL


def build_web_app(bot: Partnerbot) -> web.Application:
    app = web.Application()
    settings = bot.settings

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with bot.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        # whether each platform is on, and nothing about how requests are checked, except the one
        # setting an operator must not miss
        teams = "unauthenticated" if settings.teams_unauthenticated else settings.teams_enabled
        return web.json_response({"ok": True, "slack": bot.slack is not None, "teams": teams})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/exports/{token}.csv", ExportDownload(bot.db, bot.clock, bot.settings).handle)
    app.router.add_get("/calendar/{token}.ics", CalendarFeedDownload(bot.db, bot.clock, settings.public_url).handle)
    # the web dashboard under /app/ (signed in from the chat's `dashboard` link)
    Dashboard(bot.dashboard, secure_cookie=settings.public_url.startswith("https://")).install(app)
    if bot.slack is not None:
        app.router.add_post("/slack/events", bot.slack.handle)
        if bot.slack.installer is not None:  # multi-workspace: "Add to Slack" and its redirect
            app.router.add_routes(bot.slack.installer.routes())
    if settings.teams_enabled:  # a Slack-only deployment has no Teams surface at all
        app.router.add_post("/api/messages", bot.teams.handle)

    async def background(_app: web.Application):
        sender = asyncio.create_task(bot.sender.run_forever(), name="outbox-sender")
        scheduler = start_scheduler(bot)
        yield
        await scheduler.stop()
        await _stop_sender(bot, sender)
        await bot.close()

    app.cleanup_ctx.append(background)
    app.on_startup.append(_freeze_what_lives_forever)
    return app


async def _freeze_what_lives_forever(_app: web.Application) -> None:
    """Move everything alive at startup (modules, SQLAlchemy's mappings, the templates) out of the
    garbage collector's sight: a full collection otherwise walks all of it again and again, which
    showed as 100-200 ms pauses in a page's p95 (bench/dashboard.py: the busiest partnership's
    p95 251 -> 166 ms, the credit report's 457 -> 252 ms; p50 about the same)."""
    gc.freeze()


async def serve_dashboard(bot: Partnerbot) -> web.AppRunner | None:
    """The dashboard's pages alone, for `partnerbot console`: the link `dashboard` answers there then
    opens (no Slack, Teams or outbox sender: the console has its own). None when the address is
    taken, by a `partnerbot serve` that serves the pages itself, most likely."""
    app = web.Application()
    Dashboard(bot.dashboard, secure_cookie=bot.settings.public_url.startswith("https://")).install(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, bot.settings.host, bot.settings.port).start()
    except OSError as taken:
        log.info("dashboard not served by the console: %s:%s is taken (%s)", bot.settings.host, bot.settings.port,
                 taken.strerror)
        await runner.cleanup()
        return None
    return runner


async def _stop_sender(bot: Partnerbot, sender: asyncio.Task) -> None:
    """Let the sends in flight finish and the rest of the batch go back to the outbox, rather
    than cancel: a message cut off mid-request stays leased, so another replica sends it only
    once the lease runs out, and twice if the platform had already taken it. A send that hangs
    is cut off after the grace."""
    bot.sender.stop()
    _, pending = await asyncio.wait({sender}, timeout=SENDER_STOP_GRACE_SECONDS)
    if pending:
        log.warning("outbox sender still busy after %ss; cutting it off", SENDER_STOP_GRACE_SECONDS)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def serve(bot: Partnerbot) -> None:
    settings = bot.settings
    await bot.upgrade()
    if bot.slack is None:
        log.warning("Slack is off: set SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN (one workspace) or with "
                    "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (any number) to enable /slack/events")
    if settings.teams_unauthenticated:
        warning = (f"!!! teams.unauthenticated: /api/messages accepts UNAUTHENTICATED Teams activities on "
                   f"{settings.host}. For local trials with the Bot Framework Emulator only. !!!")
        log.warning(warning)
        print(warning, flush=True)
    elif not settings.teams_enabled:
        log.info("Teams is off: set MICROSOFT_APP_ID (and MICROSOFT_APP_PASSWORD) to enable /api/messages")
    runner = web.AppRunner(build_web_app(bot), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else settings.port
    log.info("Partnerbot listening on http://%s:%s", settings.host, port)
    print(f"Partnerbot listening on http://{settings.host}:{port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
