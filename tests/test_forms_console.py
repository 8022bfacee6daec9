"""Forms on the console: the questions are asked in turn on stdin (a pipe), then submitted.

The console runs as a real process (`python -m tests.fakes.survey`: `partnerbot console`
with a test verb that has a form)."""
import asyncio
import io
import sys
from pathlib import Path

import pytest

from adapters.console.console import ask_form
from handlers.model import Form, Question
from tests.conftest import migrated
from tests.fakes.survey import answered
from tests.processes import clean_env, read_until, stop

ROOT = Path(__file__).resolve().parent.parent


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
        _, seen = await read_until(ana, r"Survey recorded")
        assert ("Survey recorded (direct): owner='maria'; results='2 deals closed\\none in review'; "
                "working='joint pipeline reviews'") in seen

        await _type(ana, "survey", "x", "", "", "bob")  # a second time: refused, and says why
        _, seen = await read_until(ana, r"already answered")
        await _type(ana, "list")
        await read_until(ana, r"nothing open")  # back at the command prompt
        ana.stdin.close()
        assert await asyncio.wait_for(ana.wait(), 20) == 0
    finally:
        await stop(ana)
    async with migrated(db_url) as database:
        assert await answered(database) == [
            {"results": "2 deals closed\none in review", "working": "joint pipeline reviews", "owner": "maria"}]


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
