"""Two people with a console open in one channel both see the bot's posts there, as two people
in a Slack channel would; a direct message still goes to its one recipient only."""
import asyncio
import io
import os
from datetime import datetime, timezone

from bot.config import load_settings
from bot.console import run_console
from bot.wiring import Partnerbot
from tests.conftest import FixedClock
from tests.meetings.test_meetings_console import session, tick

UTC = timezone.utc


class OpenConsole:
    """A console kept open in #acme: lines are written to it while it runs (a pipe, as a terminal)."""

    def __init__(self, db_url, clock, user: str):
        read_end, self._write_end = os.pipe()
        self.out = io.StringIO()
        bot = Partnerbot(load_settings({"DATABASE_URL": db_url}), clock)
        self.task = asyncio.create_task(run_console(bot, user, "console", stdin=os.fdopen(read_end), out=self.out,
                                                    channel="acme"))

    def type(self, line: str) -> None:
        os.write(self._write_end, f"{line}\n".encode())

    async def shows(self, text: str, seconds: float = 10) -> None:
        async def until_shown():
            while text not in self.out.getvalue():
                await asyncio.sleep(0.05)
        await asyncio.wait_for(until_shown(), seconds)

    async def close(self) -> str:
        self.type("exit")
        os.close(self._write_end)
        await asyncio.wait_for(self.task, 20)
        return self.out.getvalue()


async def test_both_consoles_in_the_channel_show_its_post_and_a_later_one_does_not_repeat_it(
        db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clock = FixedClock()  # Mon 23 Nov 2026, 10:00 UTC
    await session(db_url, clock, "ana", "partnership new Acme Alliance with @dana")
    await session(db_url, clock, "dana", "partnership P-1 accept")
    await session(db_url, clock, "ana", 'meeting new P-1 "Brainstorm at Acme" every tue 15:00 for 45m')

    ana, maria = OpenConsole(db_url, clock, "ana"), OpenConsole(db_url, clock, "maria")
    try:
        await ana.shows("you are @ana in workspace")
        await maria.shows("you are @maria in workspace")
        await tick(db_url, clock, datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # the meeting starts
        ana.type("list")  # wakes nothing special: the post must show anyway, by polling
        await ana.shows("📣 #acme: M-1 starts now")
        await maria.shows("📣 #acme: M-1 starts now")
    finally:
        shown_to_ana, shown_to_maria = await ana.close(), await maria.close()
    post = "📣 #acme: M-1 starts now"
    assert shown_to_ana.count(post) == 1 and shown_to_maria.count(post) == 1  # each once
    assert "Traceback" not in shown_to_ana + shown_to_maria

    later = await session(db_url, clock, "dana", "list")  # already seen in #acme: not shown as unread
    assert "M-1 starts now" not in later
