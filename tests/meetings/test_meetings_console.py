"""A community-of-practice meeting run entirely from the terminal console (`--channel`), with
the tick moved on a fixed clock between sessions: the start post in the channel, an idea
linked to the meeting, the end prompt, the refused close, the action-item form, the summary."""
import io
from datetime import datetime, timezone

from bot.config import load_settings
from bot.console import run_console
from bot.wiring import Partnerbot
from tests.conftest import FixedClock

UTC = timezone.utc
PURPOSE = "Brainstorm new business at Acme"


async def session(db_url, clock, user: str, *lines: str) -> str:
    """One console session of `user` in channel #acme; what it printed."""
    bot = Partnerbot(load_settings({"DATABASE_URL": db_url}), clock)
    out = io.StringIO()
    await run_console(bot, user, "console", stdin=io.StringIO("".join(f"{line}\n" for line in lines)),
                      out=out, channel="acme")
    shown = out.getvalue()
    assert "Traceback" not in shown
    return shown


async def tick(db_url, clock, when: datetime) -> None:
    clock.now = when
    bot = Partnerbot(load_settings({"DATABASE_URL": db_url}), clock)
    await bot.upgrade()
    try:
        await bot.tick()
    finally:
        await bot.close()


async def test_a_meeting_from_start_post_to_summary_on_the_console(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml here: built-in defaults
    clock = FixedClock()  # Mon 23 Nov 2026, 10:00 UTC
    shown = await session(db_url, clock, "ana", "timezone Europe/Berlin", "partnership new Acme Alliance with @dana")
    assert "You manage side B of P-1" in await session(db_url, clock, "dana", "partnership P-1 accept")
    shown += await session(db_url, clock, "ana", f'meeting new P-1 "{PURPOSE}" every tue 15:00 for 45m')
    assert "This channel is bound" in shown and "First meeting Tue 24 Nov 15:00 (Europe/Berlin)" in shown

    await tick(db_url, clock, datetime(2026, 11, 24, 14, 0, tzinfo=UTC))  # 15:00 in Berlin
    shown = await session(db_url, clock, "maria", "idea Acme: cross-sell the analytics add-on")
    assert f"📣 #acme: M-1 starts now · {PURPOSE}" in shown
    assert "Lead L-1 created: Acme — cross-sell the analytics add-on; yours. Linked to M-1" in shown

    await tick(db_url, clock, datetime(2026, 11, 24, 14, 45, tzinfo=UTC))  # the end
    shown = await session(
        db_url, clock, "ana",
        "meeting close M-1",
        "meeting actions M-1", "@maria", "send the joint case study", "fri", "", "", "", "", "", "",
        "meeting close M-1")
    assert "M-1 (Brainstorm new business at Acme) has ended" in shown  # the end prompt, as a direct message
    assert "M-1 can't be closed yet: it has no action item with an owner and a due date" in shown
    assert "1 action item(s) saved for M-1:\nC-1 · maria: send the joint case study, due Fri 27 Nov 17:00" in shown
    assert "M-1 closed; its summary is posted" in shown
    assert "📣 #acme: M-1 closed · Brainstorm new business at Acme" in shown
    summary = shown[shown.index("📣 #acme: M-1 closed"):]
    assert "C-1 · maria: send the joint case study" in summary and "L-1 · Acme: cross-sell the analytics add-on" in summary
