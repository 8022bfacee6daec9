"""The terminal as a platform: typed lines become Commands (mentions are `@name`), Replies are
printed (render.py), a form is asked question by question, and messages the outbox owes the
console user are printed as they arrive (ConsoleDeliverer). bot/console.py wires it to a bot:
`partnerbot console`.

With a channel (`partnerbot console --channel acme`) the user types in `#acme` instead of a
direct chat, and the bot's posts to that channel are printed too, marked `📣 #acme:`.
"""
from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from adapters.console.render import SafeWriter, render
from handlers.kernel.delivery import Address
from handlers.kernel.grammar import MENTION
from handlers.kernel.model import Command, Form, Question, Reply

PLATFORM = "console"
_MENTION = re.compile(r"(?<![\w<@])@([A-Za-z0-9][A-Za-z0-9._-]*?)(?=[.,;:!?]?(?:\s|$))")
_PREFIX = re.compile(r"^/?partner\b\s*", re.IGNORECASE)
_PERSON = re.compile(r"^@?([A-Za-z0-9][A-Za-z0-9._-]*?)[.,;:!?]?$")  # a person question's answer
KIND_HINTS = {
    "person": "mention one person: @name",
    "date": "a date: fri, tomorrow, dec 3 or YYYY-MM-DD",
}


def to_command(line: str, user: str, workspace: str, channel: str | None = None) -> Command:
    """A typed line as a Command: a direct message, or a message in `channel` when given."""
    text = _PREFIX.sub("", line.strip(), count=1)
    names = {m.group(1): m.group(1) for m in _MENTION.finditer(text)}
    text = _MENTION.sub(lambda m: f"<@{m.group(1)}>", text)
    return Command(platform=PLATFORM, workspace=workspace, user=user, user_name=user, text=text,
                   mention_names=names, channel=channel, is_direct=channel is None)


ReadLine = Callable[[], Awaitable[str]]  # one line with its newline; "" at the end of input


def person_token(answer: str) -> str | None:
    """A person question's answer (`@maria` or `maria`) as the mention `<@maria|maria>`
    (console users are known by their name); None when it is not one name."""
    if MENTION.fullmatch(answer):
        return answer  # already a mention
    m = _PERSON.fullmatch(answer)
    return f"<@{m.group(1)}|{m.group(1)}>" if m else None


def _shown(question: Question) -> str:
    """The prefilled answer as the user would type it: a mention token as `@name`."""
    if question.kind == "person":
        return MENTION.sub(lambda m: f"@{m.group(2) or m.group(1)}", question.value)
    return question.value.replace("\n", "\n       ")


async def ask_form(form: Form, read_line: ReadLine, out: TextIO, interactive: bool = False) -> dict[str, str] | None:
    """Ask the form's questions in turn: one line for a single-line question, lines up to an
    empty one for a multiline question. A prefilled answer is kept by answering with nothing,
    and cleared with a lone `-`. A person question takes one `@name` (or `name`) and answers
    the mention `<@name|name>`, asking again until it gets one; a date question passes the
    phrase through as typed (both are one line). None when the input ends before the last
    question."""
    out.write(f"── {form.title} ──\n")
    if form.intro:
        out.write(form.intro + "\n")
    answers: dict[str, str] = {}
    for question in form.questions:
        multiline = _ask(question, out)
        while True:
            lines = await _read_lines(read_line, out, interactive, multiline)
            if lines is None:
                out.write(f"Input ended before the {form.title} form was complete; nothing was submitted.\n")
                out.flush()
                return None
            answer = _answer(question, lines)
            if answer is not None:
                break
            out.write(f"  '{' '.join(lines).strip()}' is not one person: type one @name "
                      f"(Enter leaves it as it was).\n")
        answers[question.id] = answer
    out.write(f"[{form.submit_label}]\n")
    out.flush()
    return answers


def _ask(question: Question, out: TextIO) -> bool:
    """Print the question with what helps answer it; True when it takes several lines."""
    multiline = question.multiline and question.kind not in KIND_HINTS
    out.write(f"{question.label}\n")
    if question.hint:
        out.write(f"  ({question.hint})\n")
    if question.kind in KIND_HINTS:
        out.write(f"  ({KIND_HINTS[question.kind]})\n")
    if question.value:
        out.write(f"  now: {_shown(question)}\n  (Enter keeps it, `-` clears it)\n")
    if multiline:
        out.write("  (several lines; an empty line ends the answer)\n")
    return multiline


async def _read_lines(read_line: ReadLine, out: TextIO, interactive: bool, multiline: bool) -> list[str] | None:
    """One answer's lines: one line, or lines up to an empty one. None when the input ended first."""
    lines: list[str] = []
    while True:
        if interactive:
            out.write("> ")
        out.flush()
        line = await read_line()
        if not line:
            return lines or None
        line = line.rstrip("\r\n")
        if not line.strip():
            return lines
        lines.append(line)
        if not multiline:
            return lines


def _answer(question: Question, lines: list[str]) -> str | None:
    """What the lines answer: the prefilled value when empty, nothing for `-`, a person question's
    mention; None when a person question did not get one person."""
    answer = "\n".join(lines).strip()
    if not answer:
        return question.value
    if answer == "-":
        return ""
    if question.kind == "person":
        return person_token(answer)
    return answer


class ConsoleDeliverer:
    platform = PLATFORM

    def __init__(self, out: TextIO):
        self.out = out

    async def deliver(self, address: Address, reply: Reply) -> None:
        where = f"📣 #{address.channel}:" if address.channel else "📨"  # a channel post, or a DM to you
        self.out.write(f"\n{where} {render(reply)}\n")
        self.out.flush()


Dispatch = Callable[[Command], Awaitable[Reply]]
QUIT_WORDS = frozenset({"exit", "quit", ":q"})  # what leaves the console (no verb has these names)


def line_reader(stdin: TextIO) -> ReadLine:
    """Lines of `stdin`, read by a daemon thread. Why not the loop's default executor: a thread
    blocked in readline() there is waited for at shutdown, so Ctrl-C hung until Enter was pressed."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read_all() -> None:
        while True:
            line = stdin.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read_all, name="console-stdin", daemon=True).start()
    ended = False

    async def read_line() -> str:
        nonlocal ended  # the end of input is said again to every later read, as readline() does
        if not ended:
            line = await lines.get()
            ended = not line
            return line
        return ""

    return read_line


async def chat(dispatch: Dispatch, user: str, workspace: str, stdin: TextIO, out: TextIO, *,
               channel: str | None = None, clock_command: Callable[[str], Awaitable[str]] | None = None) -> None:
    """Read lines until the input ends, carrying each out and printing its reply; a reply that
    opens a form is answered here, question by question, then submitted."""
    interactive = stdin.isatty()
    where = f", in channel #{channel}" if channel else ""
    out.write(f"Partnerbot console — you are @{user} in workspace '{workspace}'{where}. "
              f"Type `help`; mention people as @name; `exit`, Ctrl-D or Ctrl-C quits.\n")
    out.flush()
    read_line = line_reader(stdin)
    while True:
        if interactive:
            out.write(f"{user} in #{channel}> " if channel else f"{user}> ")
            out.flush()
        line = await read_line()
        if not line or line.strip().lower() in QUIT_WORDS:
            break
        if not line.strip():
            continue
        if clock_command and line.strip().split(maxsplit=1)[0] == ":clock":
            out.write(await clock_command(line.strip()[len(":clock"):]) + "\n")
            out.flush()
            continue
        reply = await dispatch(to_command(line, user, workspace, channel))
        out.write(render(reply) + "\n")
        out.flush()
        while reply.form and reply.ok and not reply.repeated:  # answer it here, then submit
            answers = await ask_form(reply.form, read_line, SafeWriter(out), interactive)
            if answers is None:
                break
            reply = await dispatch(Command(
                platform=PLATFORM, workspace=workspace, user=user, user_name=user,
                text=reply.form.submit_command, form_values=answers, channel=channel,
                is_direct=channel is None))
            out.write(render(reply) + "\n")
            out.flush()
