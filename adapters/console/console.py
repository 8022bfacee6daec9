"""`partnerbot console`: a chat in the terminal, on the same database and handlers.

Typed lines become Commands (mentions are `@name`); messages owed to this user are
printed as they arrive, by a sender that delivers only the console user's own messages.
"""
from __future__ import annotations

import asyncio
import re
import sys
from typing import Awaitable, Callable, TextIO

from adapters.console.render import render
from bot.delivery import Address
from bot.outbox import OutboxSender
from bot.wiring import Partnerbot
from handlers.model import Command, Form, Reply
from storage.repository import Store

PLATFORM = "console"
_MENTION = re.compile(r"(?<![\w<@])@([A-Za-z0-9][A-Za-z0-9._-]*?)(?=[.,;:!?]?(?:\s|$))")
_PREFIX = re.compile(r"^/?partner\b\s*", re.IGNORECASE)


def to_command(line: str, user: str, workspace: str) -> Command:
    text = _PREFIX.sub("", line.strip(), count=1)
    names = {m.group(1): m.group(1) for m in _MENTION.finditer(text)}
    text = _MENTION.sub(lambda m: f"<@{m.group(1)}>", text)
    return Command(platform=PLATFORM, workspace=workspace, user=user, user_name=user, text=text,
                   mention_names=names, is_direct=True)


ReadLine = Callable[[], Awaitable[str]]  # one line with its newline; "" at the end of input


async def ask_form(form: Form, read_line: ReadLine, out: TextIO, interactive: bool = False) -> dict[str, str] | None:
    """Ask the form's questions in turn: one line for a single-line question, lines up to an
    empty one for a multiline question. A prefilled answer is kept by answering with nothing,
    and cleared with a lone `-`. None when the input ends before the last question."""
    out.write(f"── {form.title} ──\n")
    if form.intro:
        out.write(form.intro + "\n")
    answers: dict[str, str] = {}
    for question in form.questions:
        out.write(f"{question.label}\n")
        if question.hint:
            out.write(f"  ({question.hint})\n")
        if question.value:
            now = question.value.replace("\n", "\n       ")
            out.write(f"  now: {now}\n  (Enter keeps it, `-` clears it)\n")
        if question.multiline:
            out.write("  (several lines; an empty line ends the answer)\n")
        lines: list[str] = []
        ended = False
        while True:
            if interactive:
                out.write("> ")
            out.flush()
            line = await read_line()
            if not line:
                ended = True
                break
            line = line.rstrip("\r\n")
            if not line.strip():
                break
            lines.append(line)
            if not question.multiline:
                break
        if ended and not lines:
            out.write(f"Input ended before the {form.title} form was complete; nothing was submitted.\n")
            out.flush()
            return None
        answer = "\n".join(lines).strip()
        if not answer:
            answer = question.value
        elif answer == "-":
            answer = ""
        answers[question.id] = answer
    out.write(f"[{form.submit_label}]\n")
    out.flush()
    return answers


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

    async def read_line() -> str:
        return await loop.run_in_executor(None, stdin.readline)

    try:
        while True:
            if interactive:
                out.write(f"{user}> ")
                out.flush()
            line = await read_line()
            if not line:
                break
            if not line.strip():
                continue
            reply = await bot.dispatcher.dispatch(to_command(line, user, workspace))
            out.write(render(reply) + "\n")
            out.flush()
            while reply.form and reply.ok and not reply.repeated:  # answer it here, then submit
                answers = await ask_form(reply.form, read_line, out, interactive)
                if answers is None:
                    break
                reply = await bot.dispatcher.dispatch(Command(
                    platform=PLATFORM, workspace=workspace, user=user, user_name=user,
                    text=reply.form.submit_command, form_values=answers, is_direct=True))
                out.write(render(reply) + "\n")
                out.flush()
        await inbox.drain()  # show what arrived while the last command ran
    finally:
        inbox_task.cancel()
        await asyncio.gather(inbox_task, return_exceptions=True)
        await bot.close()
