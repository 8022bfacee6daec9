"""`partnerbot demo`: a story built through the real commands on a simulated clock, then a
console on that clock. Run as people run it: a process, typing into its console."""
import asyncio

import pytest

from tests.spawn import clean_env, start

pytestmark = pytest.mark.process


async def test_the_demo_has_three_weeks_of_records_and_a_clock_that_delivers_what_falls_due(tmp_path):
    process = await start("demo", "--as", "ana", "--file", str(tmp_path / "demo.db"), cwd=tmp_path,
                          env=clean_env(), stdin=asyncio.subprocess.PIPE)
    typed = ("list\n"
             "report P-1\n"
             ":clock\n"
             ":clock 2020-01-01 09:00\n"
             ":clock soon\n"
             ":clock +8d\n"
             "exit\n")
    out, _ = await asyncio.wait_for(process.communicate(typed.encode()), 120)
    out = out.decode()
    assert process.returncode == 0 and "Traceback" not in out, out
    assert "Ready. The demo's clock says" in out
    assert "· intro Initech's CISO to bob ·" in out  # ana's open pledge from her peer sync
    assert "Wins: 1 win · 120,000" in out and "P-1 Acme-Globex" in out  # the report of the story
    assert "the clock only moves forward" in out and "nothing changed" in out
    assert "Try `:clock +1d`" in out
    moved = out[out.index("Tick:"):]
    assert "sync prompts" in moved  # a week on: the next peer sync ...
    assert "📨 Time for your weekly peer sync" in moved  # ... reaches ana's console at once
    assert (tmp_path / "demo.db").exists()
