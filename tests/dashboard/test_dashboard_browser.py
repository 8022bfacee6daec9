"""The dashboard in headless Chromium: signed in with a link from a real `dashboard` command,
landing on the overview, the person page's charts drawn (an SVG with its bars per figure), no
script run, logout."""
from __future__ import annotations

from tests.dashboard.test_dashboard_web import serving
from tests.helpers import Clocked, person_named
from tests.reports.test_report import history


async def test_signing_in_shows_ones_scorecard_with_its_charts_drawn(browser, schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url, "http://127.0.0.1") as server:
        bot = Clocked(server.bot.db, server.bot.settings, server.clock)
        await history(bot)
        said = [(f.label, f.value.rsplit(" ", 1)[0]) for f in (await bot.say("ana", "report")).cards[0].facts]
        link = await server.link("ana")

        await browser.open(server.url + link)
        assert (await browser.url()).endswith("/app/")  # the overview of their partnerships
        assert await browser.status_of_last_page() == 200
        assert await browser.title() == "Partnerships · Partnerbot"
        ana = await person_named(server.bot.db, "ana")
        [mine] = [a for a in await browser.find_all("nav a") if a.text == "My scorecard"]
        assert mine.attributes["href"] == f"/app/people/{ana.id}"

        await browser.open(server.url + mine.attributes["href"])
        assert await browser.status_of_last_page() == 200
        assert "Scorecard of ana — last 8 weeks" in await browser.text()
        labels = [h.text for h in await browser.find_all("section.figure h2")]
        values = [p.text for p in await browser.find_all("section.figure p.value")]
        assert list(zip(labels, values)) == said
        assert await browser.svg_count() == len(said)
        bars = await browser.find_all("svg .series.serie-0 rect")  # the data's bars, not "no data"'s
        assert bars and all(bar.width > 0 for bar in bars)
        assert any(bar.height > 0 for bar in bars)
        # each chart is named and described for a screen reader (the first one: Kept on time)
        [chart] = await browser.find_all("section#figure-1 svg")
        assert chart.attributes["aria-labelledby"] == "chart-1-title chart-1-desc"
        [title] = await browser.find_all("svg > title#chart-1-title")
        [desc] = await browser.find_all("svg > desc#chart-1-desc")
        assert title.text == "Kept on time"
        assert desc.text.startswith("Kept on time, 40% (4 of 10 kept on time). Week by week, oldest first — 26 Oct: 100%")
        await browser.screenshot("person-page")

        await browser.open(server.url + link)  # the same link again: refused
        assert await browser.status_of_last_page() == 404
        await browser.open(server.url + "/app/logout")
        assert "Signed out" in await browser.text()
        await browser.open(server.url + "/app/")
        assert await browser.status_of_last_page() == 404
        await browser.screenshot("signed-out")
