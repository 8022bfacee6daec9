"""Two companies, two Slack workspaces and one Teams tenant run one partnership, end to end
through a real `partnerbot serve` process (and a `partnerbot tick`):

- company A installs Partnerbot in Slack workspace T1 and company B in T2, each through the real
  /slack/install → Slack's authorize page (the fake's) → /slack/oauth_redirect flow;
- A's manager ana (T1) proposes P-1 in a Slack Connect channel (C9, one id in both workspaces) to
  B's manager dana (T2), who accepts from T2;
- B's rep wen works in Microsoft Teams (tenant-1). A person is mentioned only by their account on
  the platform the command is typed on, so a Teams-only person cannot be named from Slack: wen
  joins the way the user guide offers, `link` (the code issued in Teams, typed by wen's Slack
  account W2 of T2, confirmed in Teams); from then on dana's `partnership P-1 add @wen` (Slack)
  invites that one person, who accepts in Teams;
- work from all three: a handoff from A's rep olga (T1) to wen, a commitment, the peer sync
  answered by both managers from their own workspaces, its digest posted to C9 once, every Slack
  call made with the token of the right workspace (the fake records each call's token), wen's
  answers delivered to the fake Teams connector.

SQLite, and PostgreSQL with PARTNERBOT_TEST_BACKEND=postgres (both CI passes).
"""
from __future__ import annotations

import asyncio
import html
import json
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import aiohttp
import pytest

from storage.models import Commitment, Handoff, Identity, Partnership, PartnershipMember, PeerSync, Workspace
from tests.conftest import migrated
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_body, view_submission_body
from tests.fakes.teams_connector import FakeConnector, Posted, message, person
from tests.helpers import NO_SLACK_PACE, TEAMS_ON_LOOPBACK, rows
from tests.spawn import clean_env, read_until, start, stop

pytestmark = pytest.mark.process

STATE_COOKIE = "slack-app-oauth-state"
SHARED = "C9"  # a Slack Connect channel: one id in T1 and T2
# Slack people, by their home workspace as users.info says: A = T1, B = T2
ANA, OLGA, DANA, WEN_SLACK = "U1", "U2", "W1", "W2"
HOMES = {ANA: "T1", OLGA: "T1", DANA: "T2", WEN_SLACK: "T2"}
NAMES = {ANA: "ana", OLGA: "olga", DANA: "dana", WEN_SLACK: "wen"}
WEN = person("aad-wen", "Wen")  # B's rep in Teams
WEN_CHAT = "a:personal-aad-wen"


def _free_port() -> int:
    """A port for `serve` known before it starts: PUBLIC_URL (the OAuth redirect URL) names it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _text(posted: Posted) -> str:
    """What a Teams user reads of an activity: its text, else its card's fallback."""
    return posted.activity.get("text") or posted.fallback


@dataclass
class World:
    url: str
    http: aiohttp.ClientSession
    slack: FakeSlackApi
    teams: FakeConnector
    env: dict[str, str]  # `serve`'s, for `tick` too
    cwd: Path
    logged: list[str] = field(default_factory=list)  # what `serve` printed

    async def tick(self, now: datetime) -> str:
        """`partnerbot tick --now …` against the same database and fakes; what it printed."""
        process = await start("tick", "--now", now.isoformat(), cwd=self.cwd, env=self.env)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, out.decode()
        return out.decode()

    # -- Slack ---------------------------------------------------------------------------------
    async def install(self, team: str) -> None:
        """The OAuth flow as a browser does it: our install page, Slack's authorize page, our redirect."""
        page = await self.http.get(f"{self.url}/slack/install", params={"team": team})
        assert page.status == 200, await page.text()
        (link,) = re.findall(r'<a href="([^"]+)"', await page.text())
        cookie = page.cookies[STATE_COOKIE].value
        slack_says = await self.http.get(html.unescape(link), allow_redirects=False)
        assert slack_says.status == 302
        done = await self.http.get(slack_says.headers["Location"], headers={"Cookie": f"{STATE_COOKIE}={cookie}"},
                                   allow_redirects=False)
        assert done.status == 200 and "Thank you!" in await done.text()

    def token(self, team: str) -> str:
        (token,) = self.slack.tokens_of(team)
        return token

    async def slash(self, text: str, *, user: str, channel: str = SHARED) -> tuple[str, str]:
        """`/partner <text>` typed by `user` in their own workspace; the answer and the trigger id."""
        body = slash_body(text, user=user, team=HOMES[user], channel=channel, user_name=NAMES[user])
        response = await self.http.post(f"{self.url}/slack/events", data=body, headers=signed_headers(body))
        assert response.status == 200, await response.text()
        return (await response.json())["text"], parse_qs(body)["trigger_id"][0]

    async def submit(self, view: dict, answers: dict[str, str], *, user: str) -> None:
        body = view_submission_body(view, answers, user=user, team=HOMES[user])
        response = await self.http.post(f"{self.url}/slack/events", data=body, headers=signed_headers(body))
        assert response.status == 200 and await response.text() == "", await response.text()

    def posts_to(self, channel: str) -> list:
        return [p for p in self.slack.posts() if p.args["channel"] == channel]

    async def wait_posts(self, channel: str, count: int, what: str) -> list:
        return await self.slack.wait_until(lambda: self.posts_to(channel), count, 15.0, what)

    # -- Teams ---------------------------------------------------------------------------------
    async def teams_say(self, text: str) -> str:
        """wen types in the 1:1 chat with the bot; the answer the connector received."""
        before = len(self.teams.to(WEN_CHAT))
        activity = message(text, sender=WEN, service_url=self.teams.url, local_timezone="Europe/Berlin")
        response = await self.http.post(f"{self.url}/api/messages", json=activity)
        assert response.status in (200, 201), await response.text()
        posted = await self.teams.wait_for(WEN_CHAT, before + 1, timeout=15.0)
        return _text(posted[before])


@pytest.fixture
async def world(tmp_path, db_url, fake_slack, connector):
    fake_slack.user_teams.update(HOMES)
    fake_slack.names.update(NAMES)
    port = _free_port()
    env = clean_env(DATABASE_URL=db_url, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_CLIENT_ID="111.222",
                    SLACK_CLIENT_SECRET="client-secret", SLACK_API_URL=fake_slack.url,
                    PUBLIC_URL=f"http://127.0.0.1:{port}", HOST="127.0.0.1", PORT=str(port),
                    **NO_SLACK_PACE, **TEAMS_ON_LOOPBACK)
    process = await start("serve", cwd=tmp_path, env=env)
    try:
        _, started = await read_until(process, r"Partnerbot listening on http://")
        async with aiohttp.ClientSession() as http:
            world = World(f"http://127.0.0.1:{port}", http, fake_slack, connector, env, tmp_path, [started])
            reading = asyncio.create_task(_read_all(process, world.logged))  # a full pipe would stall `serve`
            yield world
            reading.cancel()
    finally:
        await stop(process)


async def _read_all(process: asyncio.subprocess.Process, into: list[str]) -> None:
    while line := await process.stdout.readline():
        into.append(line.decode(errors="replace"))


async def _partnership_with_a_teams_rep(world: World) -> None:
    """Steps 1 to 3: both companies install, P-1 is made and accepted in the shared channel,
    and wen, linked from Teams to their Slack account, joins side B, accepting in Teams."""
    for team in ("T1", "T2"):
        await world.install(team)
    assert world.token("T1") != world.token("T2")

    answer, _ = await world.slash("partnership new Acme Alliance with <@W1|dana>", user=ANA)
    assert "P-1" in answer and "This channel is bound" in answer, answer
    answer, _ = await world.slash("partnership P-1 accept", user=DANA)  # typed in the shared channel, from T2
    assert answer.startswith("You manage side B of P-1 Acme Alliance"), answer

    said = await world.teams_say("link")
    code = re.search(r"Your link code is (\w+)", said).group(1)
    answer, _ = await world.slash(f"link {code}", user=WEN_SLACK, channel=f"D{WEN_SLACK}")
    assert answer.startswith("I've asked Wen on Teams"), answer
    await world.teams.wait_until(lambda: [p for p in world.teams.to(WEN_CHAT) if "typed your link code" in _text(p)],
                                 1, 15.0, "the link request, in Teams")
    assert (await world.teams_say("link confirm")).startswith("Linked: you are now one person (Wen) on Slack and Teams")

    answer, _ = await world.slash("partnership P-1 add <@W2|wen>", user=DANA)
    assert answer == "Wen is invited to P-1 Acme Alliance, side B: they join when they accept.", answer
    joined = await world.teams_say("partnership P-1 accept")
    assert joined == "You joined side B of P-1 Acme Alliance. dana is now your manager in Partnerbot.", joined

    answer, _ = await world.slash("handoff <@W2|wen> Globex: needs a security review by fri", user=OLGA)
    assert answer == "H-1 handed to Wen: Globex — needs a security review. I've asked them to accept it.", answer


async def _sync_form(world: World, command: str, *, user: str) -> dict:
    """The peer-sync form `command` opens for `user` (a modal, opened with the slash command's trigger)."""
    before = len(world.slack.calls_to("views.open"))
    answer, trigger = await world.slash(command, user=user, channel=f"D{user}")
    opened = (await world.slack.wait_for("views.open", before + 1, timeout=15.0))[before]
    assert opened.args["trigger_id"] == trigger, answer
    assert opened.token == world.token(HOMES[user])  # the installation the command came through
    return opened.args["view"]


def _answers(view: dict, side: str, pledge: str) -> dict[str, str]:
    """Every question of the sync form answered; the pledge question with one line."""
    answers = {}
    for block in view["blocks"]:
        if block.get("type") == "input":
            label = block["label"]["text"]
            answers[block["block_id"]] = pledge if label.startswith("What I commit to") else f"{side}: {label.lower()}"
    return answers


async def test_two_slack_workspaces_and_a_teams_tenant_run_one_partnership(world):
    slack = world.slack
    await _partnership_with_a_teams_rep(world)
    t1, t2 = world.token("T1"), world.token("T2")

    # the offer reaches wen where it was typed from (Slack, their linked account W2: a notice goes on
    # the sender's platform when the receiver is on it), and wen sees H-1 in `list` in Teams too
    offers = await world.wait_posts(f"D{WEN_SLACK}", 3, "wen's Slack DMs")  # linked, invited, handed H-1
    assert offers[-1].args["text"] == "olga handed you H-1: Globex — needs a security review. Accept or decline it."
    listed = await world.teams_say("list")
    assert "H-1 (on Slack) · Globex: needs a security review · identified · olga → Wen" in listed, listed

    # a commitment of A's rep about it, typed in the shared channel: numbered in T1
    answer, _ = await world.slash("commit book the security review call by fri re Globex", user=OLGA)
    assert answer.startswith("C-1 saved: book the security review call"), answer

    # the peer sync, opened now by A's manager and answered by both managers from their own workspace
    view = await _sync_form(world, "sync now P-1", user=ANA)
    await world.submit(view, _answers(view, "A", "send the joint case study"), user=ANA)
    async with migrated(world.env["DATABASE_URL"]) as db:
        (sync,) = await rows(db, PeerSync)
    assert sync.ref == "S-1" and sync.digest_at is None
    view = await _sync_form(world, "sync answer S-1", user=DANA)  # S-1 of T1, typed in T2
    await world.submit(view, _answers(view, "B", "book two joint demos"), user=DANA)

    # the digest: in the shared channel once, with the partnership's workspace's token; to both managers
    (digest,) = await world.wait_posts(SHARED, 1, "the digest in the shared channel")
    assert digest.token == t1 and digest.args["text"].startswith("Peer sync S-1"), digest.args["text"]
    for side in ("A: what is working", "B: what is working", "send the joint case study", "book two joint demos"):
        assert side in json.dumps(digest.args), side
    for manager in (ANA, DANA):
        await slack.wait_until(lambda m=manager: [p for p in world.posts_to(f"D{m}")
                                                  if p.args["text"].startswith("Peer sync S-1")], 1, 15.0,
                               f"the digest to {manager}")

    # the tick at the digest's deadline sends it nowhere again
    async with migrated(world.env["DATABASE_URL"]) as db:
        (sync,) = await rows(db, PeerSync)
    assert sync.digest_at is not None
    out = await world.tick(sync.deadline_at + timedelta(minutes=1))
    assert "Traceback" not in out, out
    await asyncio.sleep(1.0)  # `serve`'s sender would have sent anything the tick left behind
    assert [p.args["text"][:13] for p in world.posts_to(SHARED)] == ["Peer sync S-1"]
    assert slack.duplicate_posts() == {}

    # every Slack call went out with one of the two installations' tokens; wen's answers reached Teams
    assert {c.token for c in slack.calls if c.method != "oauth.v2.access"} <= {t1, t2}
    assert all(p.conversation == WEN_CHAT for p in world.teams.posted)
    assert "Traceback" not in "".join(world.logged), "".join(world.logged)  # `serve` met no error on the way

    # the records: one P-1 and everything of it numbered in T1, the partnership's workspace
    async with migrated(world.env["DATABASE_URL"]) as db:
        (t1_row,) = await rows(db, Workspace, Workspace.platform == "slack", Workspace.external_id == "T1")
        (partnership,) = await rows(db, Partnership)
        assert (partnership.ref, partnership.workspace_id, partnership.status) == ("P-1", t1_row.id, "active")
        (handoff,) = await rows(db, Handoff)
        assert (handoff.ref, handoff.workspace_id) == ("H-1", t1_row.id)
        members = await rows(db, PartnershipMember, PartnershipMember.partnership_id == partnership.id)
        assert sorted((m.side, m.role) for m in members) == [("a", "manager"), ("b", "manager"), ("b", "rep")]
        (ana, dana, wen) = sorted(members, key=lambda m: (m.side, m.role))
        identities = await rows(db, Identity, Identity.person_id == wen.person_id)
        assert sorted((i.platform, i.external_id) for i in identities) == [("slack", WEN_SLACK), ("teams", "aad-wen")]
        assert handoff.to_id == wen.person_id
        commitments = await rows(db, Commitment)
        assert [(c.ref, c.workspace_id) for c in commitments] == [
            ("C-1", t1_row.id), ("C-2", t1_row.id), ("C-3", t1_row.id)]  # both managers' pledges, after C-1
        assert {(c.what, c.owner_id) for c in commitments[1:]} == {("send the joint case study", ana.person_id),
                                                                  ("book two joint demos", dana.person_id)}


async def test_the_teams_rep_accepts_a_handoff_from_slack_in_teams(world):
    await _partnership_with_a_teams_rep(world)
    accepted = await world.teams_say("handoff H-1 accept")
    assert accepted.startswith("You accepted H-1: Globex — needs a security review. olga has been told."), accepted
    told = await world.wait_posts(f"D{OLGA}", 1, "olga told of the acceptance")
    assert "Wen accepted H-1" in told[-1].args["text"]
    async with migrated(world.env["DATABASE_URL"]) as db:
        (handoff,) = await rows(db, Handoff)
    assert handoff.accepted_at is not None


async def test_each_direct_message_goes_out_with_the_recipients_workspace_token(world):
    await _partnership_with_a_teams_rep(world)
    await world.wait_posts(f"D{WEN_SLACK}", 3, "wen's Slack DMs")  # linked, invited, handed H-1
    dms = [p for p in world.slack.posts() if p.args["channel"].startswith("D")]
    assert {(p.args["channel"], p.token) for p in dms} == {
        (f"D{user}", world.token(HOMES[user])) for user in {p.args["channel"][1:] for p in dms}}
