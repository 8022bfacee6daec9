"""`partnerbot console`: a chat in the terminal, on the same database and handlers as `serve`.

Messages owed to the console user (and, with a channel, the bot's posts to it) are printed
as they arrive, by a sender that delivers only those.
"""
from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from adapters.console.console import PLATFORM, ConsoleDeliverer, chat
from bot.channel_reader import ChannelReader
from bot.outbox import OutboxSender
from bot.server import serve_dashboard
from bot.wiring import Partnerbot

ClockCommand = Callable[[str], Awaitable[str]]  # `:clock <argument>` → what to print
CLOSE_SECONDS = 5.0


async def run_console(bot: Partnerbot, user: str, workspace: str,
                      stdin: TextIO = sys.stdin, out: TextIO = sys.stdout, *, channel: str | None = None,
                      clock_command: ClockCommand | None = None, dashboard: bool = False) -> None:
    """Chat as `user`: in a direct chat with the bot, or in `channel` when given (then the
    bot's posts to that channel are printed as well as the user's own messages). With
    `clock_command` (the demo's), `:clock …` lines move the bot's clock. With `dashboard`, the web
    dashboard's pages are served on HOST:PORT while the console runs, so that the link `dashboard`
    answers opens (unless the address is taken: by `partnerbot serve`, which serves them too)."""
    await bot.upgrade()
    pages = await serve_dashboard(bot) if dashboard else None
    workspace_id, person_id = await bot.dispatcher.identify(PLATFORM, workspace, user)
    deliverer = ConsoleDeliverer(out)
    inbox = OutboxSender(bot.db, [deliverer], bot.clock, poll_seconds=1.0, person_ids={person_id})
    readers = [inbox]
    if channel:  # every console in the channel shows its posts (see bot/channel_reader.py)
        reader = ChannelReader(bot.db, bot.clock, deliverer, workspace_id=workspace_id, workspace=workspace,
                               channel=channel)
        await reader.begin()  # every post from now on is shown
        readers.append(reader)

    def wake() -> None:
        for reader in readers:
            reader.wake()

    bot.dispatcher.on_outbox = wake  # a message to yourself, or your own post to the channel, shows at once
    tasks = [asyncio.create_task(reader.run_forever()) for reader in readers]
    try:
        async def clock(argument: str) -> str:
            said = await clock_command(argument)
            wake()  # what the clock made due shows now
            return said

        await chat(bot.dispatcher.dispatch, user, workspace, stdin, out, channel=channel,
                   clock_command=clock if clock_command else None)
        for reader in readers:  # let a send in progress finish, then show what arrived while the last command ran
            reader.stop()
        await asyncio.gather(*tasks)
        await inbox.drain()
        for reader in readers[1:]:
            await reader.read()
    finally:
        # bounded: after Ctrl-C (the task cancelled mid-query), a PostgreSQL connection can be slow to
        # give back; everything the user was told is saved is committed already
        for task in tasks:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), CLOSE_SECONDS)
        if pages is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pages.cleanup(), CLOSE_SECONDS)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bot.close(), CLOSE_SECONDS)
