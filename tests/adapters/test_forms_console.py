"""Forms on the console: the questions are asked in turn on stdin (a pipe), then submitted.

The console runs as a real process (`python -m tests.fakes.survey`: `partnerbot console`
with a test verb that has a form)."""
import asyncio
import io
import sys
from pathlib import Path

import pytest

from adapters.console.console import ask_form
from handlers.kernel.model import Form, Question
from tests.conftest import migrated
from tests.fakes.survey import answered
from tests.spawn import clean_env, read_until, stop

ROOT = Path(__file__).resolve().parents[2]


async def _start(tmp_path, db_url: str, user: str = "ana") -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.survey", "--as", user, cwd=tmp_path,
        env=clean_env(DATABASE_URL=db_url, PYTHONPATH=str(ROOT)), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def _type(process: asyncio.subprocess.Process, *lines: str) -> None:
    process.stdin.write("".join(f"{line}\n" for line in lines).encode())
    await process.stdin.drain()


@pytest.mark.process
async def test_the_console_asks_the_questions_in_turn_and_submits_the_answers(tmp_path, db_url):
    ana = await _start(tmp_path, db_url)
    try:
        await read_until(ana, r"you are @ana")
        await _type(ana, "survey")
        _, seen = await read_until(ana, r"an empty line ends the answer")
        assert "Opening the survey form…" in seen and "Answer for your side of P-1" in seen
        assert "Results since the last sync\n  (Numbers beat adjectives.)" in seen
        with pytest.raises(asyncio.TimeoutError):  # one question at a time: it waits for the answer
            await asyncio.wait_for(ana.stdout.readline(), 0.5)
        await _type(ana, "2 deals closed", "one in review", "")  # multiline: up to an empty line
        _, seen = await read_until(ana, r"^What is working")
        _, seen = await read_until(ana, r"now: joint pipeline reviews")
        await _type(ana, "")  # keep the prefilled answer
        await read_until(ana, r"^Who owns the follow-up\?")
        await _type(ana, "maria")  # single line: one line is the answer
        _, seen = await read_until(ana, r"^\s*\(mention one person: @name\)")
        assert "Partner contact\n  (The person on their side who follows up.)\n" in seen
        await _type(ana, "@maria")  # a person: answered as a mention
        _, seen = await read_until(ana, r"^\s*\(a date: fri, tomorrow, dec 3 or YYYY-MM-DD\)")
        assert "Follow up by" in seen
        await _type(ana, "dec 3")  # a date: passed through as typed
        _, seen = await read_until(ana, r"Survey recorded")
        assert ("Survey recorded (direct): due='dec 3'; owner='maria'; owner_pick='<@maria|maria>'; "
                "results='2 deals closed\\none in review'; working='joint pipeline reviews' "
                "(partner contact: maria)") in seen

        await _type(ana, "survey", "x", "", "", "bob", "", "")  # a second time: refused, and says why
        _, seen = await read_until(ana, r"already answered")
        await _type(ana, "list")
        await read_until(ana, r"nothing open")  # back at the command prompt
        ana.stdin.close()
        assert await asyncio.wait_for(ana.wait(), 20) == 0
    finally:
        await stop(ana)
    async with migrated(db_url) as database:
        assert await answered(database) == [
            {"results": "2 deals closed\none in review", "working": "joint pipeline reviews", "owner": "maria",
             "owner_pick": "<@maria|maria>", "due": "dec 3"}]


@pytest.mark.process
async def test_input_ending_inside_a_form_submits_nothing(tmp_path, db_url):
    ana = await _start(tmp_path, db_url)
    out, _ = await asyncio.wait_for(ana.communicate(b"survey\nonly the first answer\n\n"), 30)
    assert ana.returncode == 0, out.decode()
    assert "nothing was submitted" in out.decode() and "Traceback" not in out.decode()
    async with migrated(db_url) as database:
        assert await answered(database) == []


async def test_a_prefilled_answer_can_be_cleared_and_input_ending_finishes_a_multiline_answer():
    form = Form("Check-in", "checkin submit", (
        Question("mood", "Mood", multiline=False, value="fine"),
        Question("notes", "Notes", value="old notes"),
    ))
    lines = iter(["-\n", "first line\n", "second line"])  # no newline at the very end

    async def read_line() -> str:
        return next(lines, "")

    out = io.StringIO()
    assert await ask_form(form, read_line, out) == {"mood": "", "notes": "first line\nsecond line"}
    assert out.getvalue().index("Mood") < out.getvalue().index("Notes")


def _reader(*typed: str):
    """read_line over these lines (each gets its newline); "" once they run out."""
    lines = iter(f"{line}\n" for line in typed)

    async def read_line() -> str:
        return next(lines, "")

    return read_line


async def test_a_person_question_takes_one_at_name_and_answers_a_mention():
    form = Form("Handover", "handover submit", (
        Question("owner", "Who owns it?", kind="person"),  # multiline by default: one line all the same
        Question("backup", "Who backs them up?", kind="person"),
        Question("reviewer", "Who reviews?", kind="person"),
        Question("note", "Anything else?", multiline=False),
    ))
    out = io.StringIO()
    answers = await ask_form(form, _reader("@maria", "bob.smith", "", "thanks"), out)
    assert answers == {"owner": "<@maria|maria>", "backup": "<@bob.smith|bob.smith>", "reviewer": "",
                       "note": "thanks"}
    shown = out.getvalue()
    assert "Who owns it?\n  (mention one person: @name)\n" in shown
    assert "several lines" not in shown  # a person is one line


async def test_a_person_answer_that_is_not_one_name_is_asked_again():
    form = Form("Handover", "handover submit", (Question("owner", "Who owns it?", kind="person"),))
    out = io.StringIO()
    assert await ask_form(form, _reader("@maria and @bob", "maria"), out) == {"owner": "<@maria|maria>"}
    assert "'@maria and @bob' is not one person" in out.getvalue()
    assert out.getvalue().count("[Submit]") == 1
    out = io.StringIO()  # input ending while asked again: nothing is submitted
    assert await ask_form(form, _reader("two people"), out) is None
    assert "nothing was submitted" in out.getvalue()


async def test_a_prefilled_person_is_shown_as_at_name_and_kept_or_cleared():
    form = Form("Handover", "handover submit", (
        Question("owner", "Who owns it?", kind="person", value="<@maria|maria>"),
        Question("backup", "Who backs them up?", kind="person", value="<@bob|bob>"),
        Question("lead", "Who leads?", kind="person", value="<@lee|lee>"),
    ))
    out = io.StringIO()
    answers = await ask_form(form, _reader("", "-", "@dana"), out)
    assert answers == {"owner": "<@maria|maria>", "backup": "", "lead": "<@dana|dana>"}
    assert "  now: @maria\n" in out.getvalue() and "<@" not in out.getvalue()


async def test_a_date_question_passes_the_phrase_through_as_typed():
    form = Form("Plan", "plan submit", (
        Question("due", "By when?", kind="date", hint="The customer's deadline."),
        Question("review", "Review on", kind="date", value="2026-12-03"),
        Question("other", "Other", kind="date"),
    ))
    out = io.StringIO()
    assert await ask_form(form, _reader("dec 3", "", "  next week "), out) == {
        "due": "dec 3", "review": "2026-12-03", "other": "next week"}
    shown = out.getvalue()
    assert "By when?\n  (The customer's deadline.)\n  (a date: fri, tomorrow, dec 3 or YYYY-MM-DD)\n" in shown
    assert "  now: 2026-12-03\n" in shown and "several lines" not in shown
