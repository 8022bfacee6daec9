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
    the mention `<@name|name>`, asking again until it gets one; a choice question asks again
    until it gets one of its choices; a date question passes the phrase through as typed (all
    three are one line). A form refused field by field (Form.refused) asks only the refused
    questions again, each with its reason, and keeps the other answers. None when the input
    ends before the last question."""
    out.write(f"── {form.title} ──\n")
    if form.intro and not form.errors:
        out.write(form.intro + "\n")
    # a form refused field by field asks again only what was refused; the other answers stand
    answers = {q.id: q.value for q in form.questions if form.errors and not q.error}
    for question in form.questions:
        if question.id in answers:
            continue
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
            typed = " ".join(lines).strip() or question.value
            if question.kind == "choice":
                out.write(f"  '{typed}' is not one of {_choices_text(question.choices)}: pick one of them.\n")
            else:
                out.write(f"  '{typed}' is not one person: type one @name (Enter leaves it as it was).\n")
        answers[question.id] = answer
    out.write(f"[{form.submit_label}]\n")
    out.flush()
    return answers


def _choices_text(choices: tuple[str, ...]) -> str:
    """`1-5` for choices that count up from a number, else `a, b or c`."""
    if len(choices) > 1 and all(c.isdigit() for c in choices) and \
            [int(c) for c in choices] == list(range(int(choices[0]), int(choices[0]) + len(choices))):
        return f"{choices[0]}-{choices[-1]}"
    return " or ".join(filter(None, (", ".join(choices[:-1]), choices[-1] if choices else "")))


def _ask(question: Question, out: TextIO) -> bool:
    """Print the question with what helps answer it (and why its last answer was refused);
    True when it takes several lines."""
    multiline = question.multiline and question.kind not in (*KIND_HINTS, "choice")
    out.write(f"{question.label}\n")
    if question.error:
        out.write(f"  ✗ {question.error}\n")
    if question.hint:
        out.write(f"  ({question.hint})\n")
    if question.kind in KIND_HINTS:
        out.write(f"  ({KIND_HINTS[question.kind]})\n")
    if question.kind == "choice" and question.choices:
        out.write(f"  (pick one: {_choices_text(question.choices)})\n")
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
    mention; None when a person question did not get one person, or a choice question (or its
    kept value) is not one of its choices."""
    answer = "\n".join(lines).strip()
    if not answer and question.kind == "choice" and question.value and question.value not in question.choices:
        return None  # a refused answer kept by Enter: still not one of them
    if not answer:
        return question.value
    if answer == "-":
        return ""
    if question.kind == "person":
        return person_token(answer)
    if question.kind == "choice" and question.choices and answer not in question.choices:
        return None
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
        # answer it here, then submit; a form refused field by field comes back to fix those answers
        while reply.form and (reply.ok or reply.form.errors) and not reply.repeated:
            answers = await ask_form(reply.form, read_line, SafeWriter(out), interactive)
            if answers is None:
                break
            reply = await dispatch(Command(
                platform=PLATFORM, workspace=workspace, user=user, user_name=user,
                text=reply.form.submit_command, form_values=answers, channel=channel,
                is_direct=channel is None))
            out.write(render(reply) + "\n")
            out.flush()
