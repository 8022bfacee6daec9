"""One read model: `report`, the Slack Home tab and the dashboard compute each figure with the same
code, so on the known history of test_report.py they say the same thing, figure by figure."""
from __future__ import annotations

import html

import aiohttp
from aiohttp import web

from bot.config import load_settings
from bot.server import build_web_app
from bot.wiring import Partnerbot
from handlers.partnerships import policy
from handlers.reports.overview import COLUMNS, overview
from tests.conftest import Chat, FixedClock
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, event_body, json_headers
from tests.helpers import Clocked, person_named, rows
from tests.reports.test_report import REPORT_AT, history


def _without_sparkline(value: str) -> str:
    return value.rsplit(" ", 1)[0] if value[-1:] in "▁▂▃▄▅▆▇█·" else value


def _said(reply) -> dict[str, str]:
    """Each figure of a scorecard card as the chat shows it, without its sparkline."""
    return {f.label: _without_sparkline(f.value) for f in reply.cards[0].facts}


def _home_figures(view: dict) -> dict[str, str]:
    """The scorecard's figures as the Home tab shows them: `*label*\\nvalue` fields, unescaped."""
    shown = {}
    for block in view["blocks"]:
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("\n")
            shown[html.unescape(label.strip("*"))] = _without_sparkline(html.unescape(value))
    return shown


async def test_report_the_home_tab_and_the_dashboard_show_the_same_figures(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake = await FakeSlackApi().start()
    clock = FixedClock()
    bot = Partnerbot(load_settings({"DATABASE_URL": schema_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                                    "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.url}), clock)
    await bot.upgrade()
    runner = web.AppRunner(build_web_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        # the history typed in Slack workspace T1 (user ids ana, dana…), on the bot's own clock
        team = Clocked(bot.db, bot.settings, clock)
        team.chat = Chat(bot.dispatcher, platform="slack", workspace="T1")
        await history(team)
        clock.now = REPORT_AT
        said = _said(await team.say("ana", "report"))

        body = event_body({"type": "app_home_opened", "user": "ana", "tab": "home", "channel": "Dana"}, "Ev1")
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=json_headers(body)) as answer:
            assert answer.status == 200
        (published,) = await fake.wait_for("views.publish")
        home = _home_figures(published.args["view"])

        ana = await person_named(bot.db, "ana")
        async with bot.db.transaction() as store:
            view = await policy.dashboard_view(store, ana, whole_workspace=False)
        page = await bot.dashboard.person_page(view, ana.id)
        dashboard = {f.label: f.text for f in page.figures}

        assert len(said) == 14  # every figure of the scorecard
        assert home == said
        assert dashboard == said
        assert said["Kept on time"] == "40% (4 of 10 kept on time)"  # the known history, as test_report says
    finally:
        await runner.cleanup()
        await fake.stop()
        await bot.close()


async def test_the_overview_row_of_a_partnership_says_what_report_p_n_says(bot, db, settings):
    await history(bot)
    said = _said(await bot.say("ana", "report P-1"))
    ana = await person_named(db, "ana")
    async with db.transaction() as store:
        view = await policy.dashboard_view(store, ana, whole_workspace=False)
        shown = await overview(store, view.partnerships, REPORT_AT, settings)
    [row] = shown.rows
    assert (row.ref, row.name) == ("P-1", "Acme Alliance")
    for key, label in COLUMNS:
        assert row.cells[key].text == said[label], label
    assert row.attention == ("1 peer sync skipped", "2 overdue", "3 handoffs stuck")


async def test_the_credit_on_a_persons_page_is_their_part_of_the_credit_report(bot, db, settings):
    """A person's "Credit on wins" and the credit report's total for them are the same cents."""
    from datetime import date

    from handlers.kernel.text import amount_text
    from handlers.reports.credit_report import credit_report

    await history(bot)
    said = _said(await bot.say("ana", "report"))
    ana = await person_named(db, "ana")
    async with db.transaction() as store:
        view = await policy.dashboard_view(store, ana, whole_workspace=True)
        report = await credit_report(store, view, date(2026, 10, 26), date(2026, 12, 21), "UTC")
    [mine] = [t for t in report.totals if t.person_id == ana.id]
    assert said["Credit on wins"] == f"2 wins · {amount_text(mine.cents)} credited · 1 without an amount"
    assert (mine.wins, mine.cents, mine.without_amount) == (2, 12_000_000, 1)
    for win in report.wins:
        if win.amount_cents is not None:
            assert sum(line.cents for line in win.credits) == win.amount_cents


async def test_a_commitment_found_by_two_of_a_partnerships_searches_counts_once(bot, db):
    """`report P-n` finds a partnership's commitments by four searches (its syncs', meetings', leads'
    and handoffs') read as one UNION ALL: one both an action item and a lead's activity is one."""
    from sqlalchemy import update

    from storage.models import Commitment, Lead

    await history(bot)
    before = _said(await bot.say("ana", "report P-1"))
    [lead] = await rows(db, Lead, Lead.number == 1)
    async with db.session() as s:  # C-2, M-1's action item, also made a next activity of L-1
        await s.exec(update(Commitment).where(Commitment.number == 2).values(lead_id=lead.id))
    after = _said(await bot.say("ana", "report P-1"))
    assert before["Kept on time"] == after["Kept on time"] == "40% (2 of 5 kept on time)"
    assert after == before
