"""Slack Connect: one channel (C9) shared by two companies, each with its own workspace (T1: ana
and olga; T2: dana and wen), both of which installed the app through the real OAuth flow. Each
person is their own workspace's, wherever they type, click or are mentioned; the partnership
lives in the workspace where it was created (T1), so both sides see its P-n, M-n and L-n, and
its posts go to the shared channel once, with the token of the partnership's workspace. People
of a third workspace without the app (T3: bob) are told where to install it. SQLite, and
PostgreSQL with PARTNERBOT_TEST_BACKEND=postgres."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from adapters.slack.connect import mentioned_not_installed_line, not_installed_line
from storage.models import Identity, Lead, Meeting, MeetingSeries, Partnership, Workspace
from tests.adapters.test_slack_oauth import Installs, _token, fake_slack, installs  # noqa: F401  (fixtures)
from tests.fakes.slack_requests import button_body, signed_headers, slash_body
from tests.helpers import rows, snapshot

SHARED = "C9"  # a Slack Connect channel: one id in both workspaces
HOMES = {"U1": "T1", "U3": "T1", "W1": "T2", "W2": "T2", "X1": "T3"}  # who is whose, as users.info says


async def _connected(bot: Installs) -> None:
    for team in ("T1", "T2"):
        await bot.install(team)
    bot.fake.user_teams.update(HOMES)


async def _click(bot: Installs, value: str, *, user: str, user_team: str, channel: str, posted_by: str,
                 action_id: str = "pb:0:0", message_ts: str = "1.000100") -> None:
    body = button_body(value, user=user, channel=channel, message_ts=message_ts, team=posted_by,
                       action_id=action_id, user_team=user_team)
    response = await bot.http.post(f"{bot.url}/slack/events", data=body, headers=signed_headers(body))
    assert response.status == 200, await response.text()


def _button(post, value: str) -> str:
    """The action id of the button of a posted message that runs `value`."""
    for block in post.args.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("value") == value:
                return element["action_id"]
    raise AssertionError(f"no button {value!r} in {json.dumps(post.args.get('blocks'))}")


async def _workspaces_of(bot: Installs, user: str) -> list[str]:
    """The workspaces a Slack user id has an identity in."""
    async with bot.bot.db.session() as s:
        found = await s.exec(select(Workspace.external_id).join(Identity, Identity.workspace_id == Workspace.id)
                             .where(Identity.external_id == user))
        return sorted(found.scalars().all())


async def test_two_companies_run_one_partnership_in_a_shared_channel(installs):  # noqa: F811
    await _connected(installs)
    created = await installs.slash("partnership new Acme Alliance with <@W1|dana>", team="T1", user="U1",
                                   channel=SHARED)
    assert "P-1" in created["text"] and "This channel is bound" in created["text"]
    assert await _workspaces_of(installs, "W1") == ["T2"]  # dana is T2's, though mentioned from T1

    # dana accepts from the proposal's button: the click comes through T1's installation (whose
    # bot posted it), from a person of T2
    proposal = next(p for p in await installs.fake.wait_for("chat.postMessage") if p.args["channel"] == "DW1")
    accept = "partnership P-1 accept"
    await _click(installs, accept, user="W1", user_team="T2", channel="DW1", posted_by="T1",
                 action_id=_button(proposal, accept), message_ts=proposal.args.get("ts") or "1.000100")
    (partnership,) = await rows(installs.bot.db, Partnership)
    assert partnership.status == "active"
    (answer,) = await installs.fake.wait_for("chat.postEphemeral")  # with the token of the click's installation
    assert (answer.args["channel"], answer.args["user"], answer.token) == ("DW1", "W1", _token(installs, "T1"))
    assert "You manage side B of P-1 Acme Alliance" in answer.args["text"]
    assert await _workspaces_of(installs, "W1") == ["T2"] and await _workspaces_of(installs, "U1") == ["T1"]

    # both sides see the same P-1, typed in the shared channel
    for user, team in (("U1", "T1"), ("W1", "T2")):
        shown = await installs.slash("partnership P-1 show", team=team, user=user, channel=SHARED)
        assert "Acme Alliance" in shown["text"], shown["text"]
    # B's manager schedules its meetings there (the channel is bound for both companies)
    meeting = await installs.slash('meeting new P-1 "Pipeline review" every tue 15:00', team="T2", user="W1",
                                   channel=SHARED)
    assert "Pipeline review" in meeting["text"], meeting["text"]
    (series,) = await rows(installs.bot.db, MeetingSeries)
    assert series.workspace_id == partnership.workspace_id
    # leads typed by either side are numbered in the partnership's workspace, in one sequence
    idea = await installs.slash("idea Acme: cross-sell the add-on", team="T2", user="W2", channel=SHARED)
    assert "Lead L-1 created" in idea["text"], idea["text"]
    idea = await installs.slash("idea Globex: bundle the support plan", team="T1", user="U1", channel=SHARED)
    assert "Lead L-2 created" in idea["text"], idea["text"]
    assert {lead.workspace_id for lead in await rows(installs.bot.db, Lead)} == {partnership.workspace_id}
    assert await _workspaces_of(installs, "W2") == ["T2"]

    # the win of T2's rep is celebrated in the shared channel once, with T1's token
    won = await installs.slash("win L-1 120k", team="T2", user="W2", channel=SHARED)
    assert won["text"].startswith("L-1") or "L-1" in won["text"], won["text"]

    def shared_posts():
        return [p for p in installs.fake.posts() if p.args["channel"] == SHARED]

    await installs.fake.wait_until(shared_posts, 1, 10.0, "the celebration")
    # the meeting starts: its post, too, goes to the shared channel once
    installs.clock.now = series.next_start_at + timedelta(minutes=1)
    await installs.bot.tick()
    await installs.fake.wait_until(shared_posts, 2, 10.0, "the meeting's start")
    (started,) = await rows(installs.bot.db, Meeting)
    assert started.workspace_id == partnership.workspace_id and started.number == 1
    posts = shared_posts()
    assert len(posts) == 2 and {p.token for p in posts} == {_token(installs, "T1")}
    assert "L-1" in posts[0].args["text"] and "Pipeline review" in posts[1].args["text"]
    assert installs.fake.duplicate_posts() == {}

    # both sides act on M-1 by its number, from the shared channel
    action = await installs.slash("action M-1 <@W2|wen> send the case study by fri", team="T2", user="W1",
                                  channel=SHARED)
    assert "C-1" in action["text"], action["text"]
    assert await _workspaces_of(installs, "W2") == ["T2"]


async def test_binding_the_shared_channel_again_from_the_other_company_is_refused(installs):  # noqa: F811
    await _connected(installs)
    await installs.slash("partnership new Acme Alliance with <@W1|dana>", team="T1", user="U1", channel=SHARED)
    await installs.slash("partnership P-1 accept", team="T2", user="W1", channel=SHARED)
    before = await snapshot(installs.bot.db)
    again = await installs.slash("partnership P-1 channel", team="T2", user="W1", channel=SHARED)
    assert "already bound to P-1" in again["text"]  # one channel: posts go there once
    assert await snapshot(installs.bot.db) == before


async def test_a_person_of_a_workspace_without_the_app_is_told_where_to_install_it(installs):  # noqa: F811
    await _connected(installs)
    await installs.slash("partnership new Acme Alliance with <@W1|dana>", team="T1", user="U1", channel=SHARED)
    before = await snapshot(installs.bot.db)

    # bob (T3, no app) clicks a button of a message T1's bot posted in the shared channel
    await _click(installs, "partnership P-1 accept", user="X1", user_team="T3", channel=SHARED, posted_by="T1")
    (told,) = await installs.fake.wait_for("chat.postEphemeral")
    assert (told.args["channel"], told.args["user"], told.token) == (SHARED, "X1", _token(installs, "T1"))
    assert told.args["text"] == f"Partnerbot is not installed in your company's Slack workspace yet: install it " \
                                f"at {installs.url}/slack/install" == not_installed_line(f"{installs.url}/slack/install")

    # bob types /partner: Slack sends it for T3, which has no installation
    body = slash_body("commit send deck by fri", user="X1", team="T3", channel=SHARED).replace(
        "https%3A%2F%2Fhooks.slack.invalid%2Fcommands%2F1", installs.fake.response_url())
    response = await installs.http.post(f"{installs.url}/slack/events", data=body, headers=signed_headers(body))
    assert response.status == 200
    (answer,) = await installs.fake.wait_for("response_url")
    assert answer.args["text"] == f"Partnerbot is not installed in this workspace yet: install it at " \
                                  f"{installs.url}/slack/install"

    # ana mentions bob: she is told his company has not installed it, and given the link to pass on
    handoff = await installs.slash("handoff <@X1|bob> Acme: a review", team="T1", user="U1", channel=SHARED)
    assert handoff["text"] == mentioned_not_installed_line(["bob"], f"{installs.url}/slack/install") == (
        f"@bob works in a Slack workspace that has not installed Partnerbot, so nothing was changed: pass them "
        f"the install link {installs.url}/slack/install, then run the command again once it is installed.")
    assert await snapshot(installs.bot.db) == before
    assert await _workspaces_of(installs, "X1") == []


async def test_a_mentioned_colleague_of_the_callers_own_workspace_stays_theirs(installs):  # noqa: F811
    await _connected(installs)
    answer = await installs.slash("handoff <@U3|olga> Acme: a review", team="T1", user="U1", channel=SHARED)
    assert "H-1 handed to" in answer["text"]
    assert await _workspaces_of(installs, "U3") == ["T1"]
