"""A win's celebration mentions everyone credited, so that they are notified (issue 21): a live
Slack mention `<@U…>`, a Teams `<at>` with its mention entity; a name only when the person has
no account on the channel's platform. Over the real endpoints, as test_win_platforms."""
from __future__ import annotations

from tests.peer_sync.test_sync_platforms import (
    TEAMS_CHANNEL,
    assert_valid_slack_message,
    platforms,  # noqa: F401  (the fixture: one in-process `serve`)
    shown_text,
    start_p1,
)
from tests.wins.test_win_platforms import bind_teams_channel


async def test_a_win_celebration_mentions_the_credited_people_on_slack_and_teams(platforms):  # noqa: F811
    p = platforms
    await start_p1(p)
    await bind_teams_channel(p)
    assert "H-1 handed to Dana" in (await p.slash("handoff <@U2|Dana> Initech: needs a review <!channel> with <@U9|eve>"))["text"]
    assert "accepted H-1" in (await p.slash("handoff H-1 accept", user="U2", channel="DU2"))["text"]
    assert (await p.slash("win H-1", user="U2"))["text"].startswith("H-1 won")

    post = await p.wait_post("C1", "🎉 Win: H-1")
    blocks = assert_valid_slack_message(post.args)
    assert post.args["text"].endswith("\ncc <@U2> <@U1>")  # Dana (deliverer) first, then ana
    assert shown_text(blocks).endswith("cc <@U2> <@U1>")
    assert "<@U9" not in post.args["text"] + shown_text(blocks) and "<!channel>" not in post.args["text"]  # typed

    posted = await p.teams_wait(TEAMS_CHANNEL, "🎉 Win: H-1")
    (ana,) = [e for e in posted.activity["entities"] if e["type"] == "mention"]
    assert ana == {"type": "mention", "text": "<at>ana</at>", "mentioned": {"id": "29:aad-ana", "name": "ana"}}
    card = posted.card
    assert card["msteams"]["entities"] == [ana]
    assert card["body"][-1]["text"] == "cc @Dana <at>ana</at>"  # Dana has no Teams account: her name only
