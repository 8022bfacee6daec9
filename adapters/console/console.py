"""`partnerbot console`: a chat in the terminal, on the same database and handlers.

Typed lines become Commands (mentions are `@name`); messages owed to this user are
printed as they arrive, by a sender that delivers only the console user's own messages.
"""
from __future__ import annotations

import asyncio
import re
import sys
from typing import TextIO

from adapters.console.render import render
from bot.delivery import Address
from bot.outbox import OutboxSender
from bot.wiring import Partnerbot
from handlers.model import Command, Reply
from storage.repository import Store

PLATFORM = "console"
_MENTION = re.compile(r"(?<![\w<@])@([A-Za-z0-9][A-Za-z0-9._-]*?)(?=[.,;:!?]?(?:\s|$))")
_PREFIX = re.compile(r"^/?partner\b\s*", re.IGNORECASE)


def to_command(line: str, user: str, workspace: str) -> Command:
    text = _PREFIX.sub("", line.strip(), count=1)
    names = {m.group(1): m.group(1) for m in _MENTION.finditer(text)}
    text = _MENTION.sub(lambda m: f"<@{m.group(1)}>", text)
    return Command(platform=PLATFORM, workspace=workspace, user=user, user_name=user, text=text,
                   mention_names=names)


class ConsoleDeliverer:
    platform = PLATFORM

    def __init__(self, out: TextIO):
        self.out = out

    async def deliver(self, address: Address, reply: Reply) -> None:
        self.out.write(f"\n📨 {render(reply)}\n")
        self.out.flush()


async def _person_id(bot: Partnerbot, user: str, workspace: str) -> int:
    now = bot.clock()
    async with bot.db.session() as session:
        store = Store(session)
        ws = await store.workspace(PLATFORM, workspace, now)
        return (await store.person(ws, user, user, now)).id


async def run_console(bot: Partnerbot, user: str, workspace: str,
                      stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    await bot.upgrade()
    interactive = stdin.isatty()
    inbox = OutboxSender(bot.db, [ConsoleDeliverer(out)], bot.clock, poll_seconds=1.0,
                         person_ids={await _person_id(bot, user, workspace)})
    bot.dispatcher.on_outbox = inbox.wake  # a message to yourself shows at once
    inbox_task = asyncio.create_task(inbox.run_forever())
    out.write(f"Partnerbot console — you are @{user} in workspace '{workspace}'. "
              f"Type `help`; mention people as @name; Ctrl-D quits.\n")
    out.flush()
    loop = asyncio.get_running_loop()
    try:
        while True:
            if interactive:
                out.write(f"{user}> ")
                out.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if not line.strip():
                continue
            reply = await bot.dispatcher.dispatch(to_command(line, user, workspace))
            out.write(render(reply) + "\n")
            out.flush()
        await inbox.drain()  # show what arrived while the last command ran
    finally:
        inbox_task.cancel()
        await asyncio.gather(inbox_task, return_exceptions=True)
        await bot.close()
