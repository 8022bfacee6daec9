"""Who sees which dashboard page, over real HTTP, on the known history typed in Slack workspace T1
(nobody an admin there) plus P-2 Beta Pact between carl and dora: a rep, the managers of both
sides, an executive and the console's admin, each signed in with a link from a real `dashboard`.
Out of scope is a 404 that reads exactly like a page that does not exist."""
from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import Chat
from tests.dashboard.test_dashboard_pages_browser import (
    EXECUTIVE,
    PERIOD,
    link,
    partnership_id,
    person_id,
    serving,
    slack_team,
    the_history_and_p2,
)
from tests.dashboard.test_dashboard_web import Served, assert_not_found

PEOPLE = ("ana", "bob", "leo", "dana", "maria", "carl", "dora")
# whose person pages each may open; every other page of PEOPLE is a 404
SEES = {
    "maria": {"maria"},  # a rep: her own page alone, not even her manager's
    "bob": {"bob"},
    "ana": {"ana", "bob", "leo", "dana", "maria"},  # bob and leo report to her; P-1, which she manages
    "dana": {"ana", "bob", "leo", "dana", "maria"},  # maria reports to her; P-1, which she manages
    "carl": {"carl", "dora"},
    "vera": set(PEOPLE) | {"vera"},  # an executive: the whole workspace
}


@pytest.fixture
async def served(schema_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml: built-in defaults
    async with serving(schema_url, PARTNERBOT_EXECUTIVES=EXECUTIVE) as server:
        await the_history_and_p2(slack_team(server))
        yield server


async def session(server: Served, user: str, chat: Chat | None = None) -> str:
    """`user`'s session cookie, signed in from Slack (or from `chat`)."""
    if chat is None:
        path = await link(server, slack_team(server), user)
    else:
        reply = await chat.say(user, "dashboard")
        path = re.search(re.escape(server.public_url) + r"(/app/signin/[A-Za-z0-9_-]{43})", reply.text).group(1)
    page = await server.get(path)
    assert page.status == 303 and page.cookie, page
    return page.cookie


def rows_of(text: str) -> set[int]:
    return {int(found) for found in re.findall(r'<tr data-partnership="(\d+)"', text)}


async def test_each_role_opens_exactly_the_person_pages_of_its_scope(served):
    cookies = {viewer: await session(served, viewer) for viewer in SEES}  # vera exists once she asked for a link
    ids = {name: await person_id(served, name) for name in (*PEOPLE, "vera")}
    nowhere = await served.get("/app/people/999999", cookies["vera"])
    assert_not_found(nowhere)
    for viewer, seen in SEES.items():
        for name, pid in ids.items():
            page = await served.get(f"/app/people/{pid}", cookies[viewer])
            if name in seen:
                assert page.status == 200, (viewer, name, page.status)
            else:
                assert_not_found(page)
                assert page.text == nowhere.text, (viewer, name)  # it says nothing of who exists


async def test_each_role_sees_its_partnerships_and_no_other(served):
    p1, p2 = await partnership_id(served, "Acme Alliance"), await partnership_id(served, "Beta Pact")
    expected = {"maria": {p1}, "bob": {p1}, "ana": {p1}, "dana": {p1}, "carl": {p2}, "vera": {p1, p2}}
    for viewer, theirs in expected.items():
        cookie = await session(served, viewer)
        assert rows_of((await served.get("/app/", cookie)).text) == theirs, viewer
        for pid in (p1, p2):
            page = await served.get(f"/app/partnerships/{pid}", cookie)
            if pid in theirs:
                assert page.status == 200 and "<section id=\"figures\">" in page.text, (viewer, pid)
            else:
                assert_not_found(page)
        assert_not_found(await served.get("/app/partnerships/999999", cookie))


async def test_the_console_admin_sees_the_whole_workspace_of_the_console(served):
    """The console's user is an admin; the console is a workspace of its own (Slack T1's people are
    not in it), so its admin sees its partnerships: here one made in the console."""
    console = Chat(served.bot.dispatcher)
    made = await console.say("root", "partnership new Console Pact with <@kim|kim>", channel="C9")
    assert made.ok, made.text
    assert (await console.say("kim", f"partnership {made.text.split()[0]} accept")).ok
    cookie = await session(served, "root", console)
    console_pact = await partnership_id(served, "Console Pact")
    assert rows_of((await served.get("/app/", cookie)).text) == {console_pact}
    assert (await served.get("/app/leaders", cookie)).status == 200
    assert_not_found(await served.get(f"/app/partnerships/{await partnership_id(served, 'Acme Alliance')}", cookie))
    assert_not_found(await served.get(f"/app/people/{await person_id(served, 'ana')}", cookie))


async def test_leaders_and_credit_are_for_managers_and_executives(served):
    # reps, and carl: he manages side A of P-2, but nobody reports to him (policy.DashboardView.may_see_credit)
    for viewer in ("maria", "bob", "leo", "carl"):
        cookie = await session(served, viewer)
        page = await served.get("/app/", cookie)
        assert 'href="/app/leaders"' not in page.text and 'href="/app/credit"' not in page.text
        for path in ("/app/leaders", "/app/credit", f"/app/credit?{PERIOD}", f"/app/credit.csv?{PERIOD}"):
            assert_not_found(await served.get(path, cookie))
    for viewer in ("ana", "dana", "vera"):
        cookie = await session(served, viewer)
        page = await served.get("/app/", cookie)
        assert 'href="/app/leaders"' in page.text and 'href="/app/credit"' in page.text
        assert (await served.get("/app/leaders", cookie)).status == 200
        assert (await served.get(f"/app/credit?{PERIOD}", cookie)).status == 200


async def credit_rows(server: Served, viewer: str) -> list[dict[str, str]]:
    page = await server.get(f"/app/credit.csv?{PERIOD}", await session(server, viewer))
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/csv"), page
    assert "attachment" in page.headers.get("Content-Disposition", "")
    return list(csv.DictReader(io.StringIO(page.text)))


async def test_a_manager_s_credit_report_has_the_wins_of_her_people_and_an_executive_s_every_win(served):
    # H-1 credits ana and maria, L-1 ana alone
    assert {(x["win"], x["person"]) for x in await credit_rows(served, "ana")} == {
        ("H-1", "ana"), ("H-1", "maria"), ("L-1", "ana")}
    # dana: maria reports to her, so H-1 (every credited person of it); L-1 credits none of hers
    assert {(x["win"], x["person"]) for x in await credit_rows(served, "dana")} == {("H-1", "ana"), ("H-1", "maria")}
    assert {(x["win"], x["person"]) for x in await credit_rows(served, "vera")} == {
        ("H-1", "ana"), ("H-1", "maria"), ("L-1", "ana")}


async def test_a_period_that_cannot_be_read_is_a_400_that_says_why(served):
    cookie = await session(served, "ana")
    for query, why in (("from=2026-12-31&to=2026-10-01", "to is before from"),
                       ("from=garbage&to=2026-12-31", "must both be dates"),
                       ("from=2026-10-01", "must both be dates"),
                       ("from=2020-01-01&to=2026-12-31", "longer than two years")):
        for path in ("/app/credit", "/app/credit.csv"):
            page = await served.get(f"{path}?{query}", cookie)
            assert page.status == 400 and why in page.text, (path, query, page.status, page.text[:300])
            assert 'id="wins"' not in page.text and "win,account" not in page.text
