"""A win as people see it on both platforms, over the real endpoints of one in-process `serve`:
signed slash commands to /slack/events (Web API calls go to a fake Slack on loopback) and Bot
Framework activities to /api/messages (posts go to a fake connector at serviceUrl).

Ana (Slack U1, Teams aad-ana once linked) and Dana (U2) manage P-1 Acme Alliance, bound to
Slack channel C1 and a Teams channel. Ana hands Initech to Dana; Maria (U3, a rep of P-1)
keeps a commitment `re H-1`; Dana records the win of 250k.
"""
from __future__ import annotations

import re

from storage.models import OutboxMessage, Win
from tests.fakes.teams_connector import BOT, mention
from tests.helpers import rows
from tests.peer_sync.test_sync_platforms import (
    TEAMS_CHANNEL,
    Platforms,
    assert_valid_slack_message,
    platforms,  # noqa: F401  (the fixture: one in-process `serve`)
    shown_text,
    slack_unescape,
    start_p1,
)

CREDIT = [("Dana", "50% (125,000) · deliverer"), ("ana", "30% (75,000) · originator"),
          ("maria", "20% (50,000) · contributor")]


async def bind_teams_channel(p: Platforms) -> None:
    """Ana links her Teams identity and binds the Teams channel to P-1."""
    code = re.search(r"link code is (\w+)", (await p.slash("link", channel="DU1"))["text"]).group(1)
    await p.teams_say(f"link {code}")
    await p.slash("link confirm", channel="DU1")  # the code's issuer confirms, on Slack
    await p.teams_wait("a:personal-aad-ana", "Linked")
    await p.teams_say("<at>Partnerbot</at> partnership P-1 channel", channel=True, entities=[mention(BOT)])
    await p.teams_wait(TEAMS_CHANNEL, "bound to P-1")


async def test_a_win_is_celebrated_in_the_slack_and_the_teams_channel_with_every_share(platforms):
    p = platforms
    await start_p1(p)
    await bind_teams_channel(p)
    assert "maria is invited to P-1" in (await p.slash("partnership P-1 add <@U3|maria>"))["text"]
    assert "You joined side A of P-1" in (await p.slash("partnership P-1 accept", user="U3", channel="DU3"))["text"]
    assert "H-1 handed to Dana" in (await p.slash("handoff <@U2|Dana> Initech: needs a joint security review"))["text"]
    assert "accepted H-1" in (await p.slash("handoff H-1 accept", user="U2", channel="DU2"))["text"]
    # only H-1's reps and their managers link commitments to it: a workspace admin makes maria Dana's manager
    p.slack.admins.add("U9")
    assert "is now Dana's manager" in (await p.slash("admin manager <@U2|Dana> <@U3|maria>", user="U9",
                                                     channel="DU9"))["text"]
    assert "C-1 saved" in (await p.slash("commit send the review deck by fri re H-1", user="U3", channel="DU3"))["text"]
    assert "C-1 kept" in (await p.slash("done C-1", user="U3", channel="DU3"))["text"]

    ack = await p.slash("win H-1 250k", user="U2")
    assert ack["text"].startswith("H-1 won (250,000): Initech — needs a joint security review. Credit: "
                                  "Dana 50% (125,000) · deliverer; ana 30% (75,000) · originator; "
                                  "maria 20% (50,000) · contributor.")

    # Slack: one post in C1 whose fields show every person's share
    post = await p.wait_post("C1", "🎉 Win: H-1")
    blocks = assert_valid_slack_message(post.args)
    shown = slack_unescape(shown_text(blocks))
    assert "*🎉 Win: H-1 Initech*" in shown
    fields = [f["text"] for b in blocks for f in b.get("fields", ())]
    assert fields == [f"*{name}*\n{share}" for name, share in CREDIT]
    # Teams: one Adaptive Card in the bound channel, its own post, with the same facts
    posted = await p.teams_wait(TEAMS_CHANNEL, "🎉 Win: H-1")
    assert posted.method == "POST" and posted.activity["conversation"]["id"] == TEAMS_CHANNEL
    card = posted.card
    assert card["type"] == "AdaptiveCard"
    (fact_set,) = [e for e in card["body"] if e["type"] == "FactSet"]
    assert fact_set["facts"] == [{"title": name, "value": share} for name, share in CREDIT]
    assert all(f"{name} {share}" in posted.fallback for name, share in CREDIT)

    (won,) = await rows(p.bot.db, Win)
    assert (won.record, won.amount_cents) == ("H-1", 250_000_00)
    # exactly one post per channel, and nobody messaged directly: the channels are the celebration
    assert len([c for c in p.posts_to("C1") if "🎉 Win" in c.args["text"]]) == 1
    assert len([x for x in p.connector.to(TEAMS_CHANNEL) if "🎉 Win" in x.fallback]) == 1
    celebrations = [m for m in await rows(p.bot.db, OutboxMessage) if m.idempotency_key.startswith("win.")]
    assert sorted((m.platform, m.channel) for m in celebrations) == [("slack", "C1"), ("teams", TEAMS_CHANNEL)]
