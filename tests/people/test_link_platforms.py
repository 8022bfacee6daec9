"""link over the real endpoints of one in-process `serve`: the code typed in Teams, the Confirm
button clicked in Slack (a signed block action to /slack/events), the outcome told in Teams."""
from __future__ import annotations

import re

from storage.models import Identity, LinkRequest, Person
from tests.helpers import rows, snapshot
from tests.peer_sync.test_sync_platforms import (
    Platforms,
    buttons_of,
    platforms,  # noqa: F401  (the fixture: one in-process `serve`)
)


async def test_a_teams_request_is_confirmed_by_a_click_in_slack_and_teams_hears_it(platforms):  # noqa: F811
    p: Platforms = platforms
    code = re.search(r"link code is (\w+)", (await p.slash("link", channel="DU1"))["text"]).group(1)
    await p.teams_say(f"link {code}")
    asked = await p.teams_wait("a:personal-aad-ana", "I've asked ana on Slack to confirm")
    assert "nothing is joined until they do" in asked.fallback
    assert len(await rows(p.bot.db, Person)) == 2

    prompt = await p.wait_post("DU1", "wants to join your identity")
    assert "Ana (Teams, tenant " in prompt.args["text"]
    confirm, reject = buttons_of(prompt)
    assert (confirm["text"]["text"], reject["text"]["text"]) == ("Confirm", "Reject")
    (request,) = await rows(p.bot.db, LinkRequest)
    assert (confirm["value"], reject["value"]) == (f"link confirm {request.id}", f"link reject {request.id}")

    # Dana clicking Ana's button (a forwarded message, say) joins nothing
    before = (await snapshot(p.bot.db), len(await rows(p.bot.db, Person)))
    await p.click(confirm, user="U2", channel="DU2")
    assert (await snapshot(p.bot.db), len(await rows(p.bot.db, Person))) == before

    await p.click(confirm, user="U1", channel="DU1")
    told = await p.teams_wait("a:personal-aad-ana", "Linked")
    assert "ana confirmed your link request. Linked: you are now one person (ana) on Slack and Teams" in told.fallback
    (person,) = await rows(p.bot.db, Person)
    assert {(i.platform, i.person_id) for i in await rows(p.bot.db, Identity)} == {
        ("slack", person.id), ("teams", person.id)}
