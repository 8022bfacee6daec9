"""`report` over real HTTP as Teams sends it: a Bot Framework activity to /api/messages,
answered with an Adaptive Card whose FactSet carries the figures and their sparklines."""
from datetime import datetime, timezone

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from tests.conftest import FixedClock
from tests.fakes.teams_connector import message, person
from tests.helpers import TEAMS_ON_LOOPBACK

UTC = timezone.utc
ANA = person("aad-ana", "Ana")
CHAT = "a:personal-aad-ana"


@pytest.fixture
async def teams(schema_url, connector, tmp_path, monkeypatch):
    """`serve` on an ephemeral port with a clock the test moves."""
    monkeypatch.chdir(tmp_path)
    clock = FixedClock()  # Mon 23 Nov 2026 10:00 UTC
    bot = Partnerbot(load_settings({"DATABASE_URL": schema_url, **TEAMS_ON_LOOPBACK}), clock)
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with aiohttp.ClientSession() as http:

        async def say(text: str) -> None:
            response = await http.post(f"{url}/api/messages",
                                       json=message(text, sender=ANA, service_url=connector.url))
            assert response.status in (200, 201), await response.text()

        yield say, clock
    await runner.cleanup()
    await bot.close()


async def test_report_answers_an_adaptive_card_with_the_facts_and_their_sparklines(teams, connector):
    say, clock = teams
    await say("commit send pricing by tomorrow")  # C-1, due Tue 24 Nov 17:00
    await say("commit call the CFO by tomorrow")  # C-2
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    await say("done C-1")  # on time
    clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # C-2 is a day overdue
    await say("report")
    answer = next(p for p in await connector.wait_for(CHAT, 4) if p.fallback.startswith("Scorecard"))
    card = answer.card
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    blocks = card["body"]
    assert blocks[0] == {"type": "TextBlock", "text": "Scorecard of Ana — last 8 weeks", "weight": "Bolder",
                         "wrap": True}
    (scorecard, *_) = [b for b in blocks if b["type"] == "FactSet"]
    shown = {f["title"]: f["value"] for f in scorecard["facts"]}
    # both resolved in the newest week, one kept on time and one open past due: a single week of
    # a rate is placed on 0–100% (50% is midway, rounded up as every sparkline level is)
    assert shown["Kept on time"] == "50% (1 of 2 kept on time) ·······▅"
    assert shown["Overdue now"] == "1 ▁▁▁▁▁▁▁█"
    assert shown["Time to accept"] == "— (none accepted) ········"
    assert shown["Handoffs given"] == "0 ▁▁▁▁▁▁▁▁"
    # the open commitment under it, with its Done button; the text is the fallback
    assert {"type": "TextBlock", "text": "C-2 · call the CFO", "weight": "Bolder", "wrap": True} in blocks
    assert answer.submits == [("Done", "done C-2")]
    assert "Kept on time: 50% (1 of 2 kept on time) ·······▅" in answer.fallback
    assert answer.activity["summary"] == answer.fallback
