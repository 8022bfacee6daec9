"""The consent flows and their refusals on Teams, as Bot Framework activities posted to
/api/messages and the cards the fake connector receives."""
from storage.models import Partnership, Person
from tests.adapters.test_teams_http import teams  # noqa: F401  (fixture: serve with Teams on loopback)
from tests.fakes.teams_connector import mention, person
from tests.helpers import person_named, rows, snapshot

JONAS, MARIA, OLGA = person("aad-jonas", "Jonas"), person("aad-maria", "Maria"), person("aad-olga", "Olga")


async def test_a_peer_accepts_a_partnership_from_its_card_and_a_rep_joins_from_theirs(teams):  # noqa: F811
    await teams.say("help", sender=MARIA)  # first contact: the bot can reach them
    await teams.say("help", sender=OLGA)
    await teams.say("partnership new Globex Alliance with <at>Maria</at>", sender=JONAS, entities=[mention(MARIA)])
    proposal = next(p for p in await teams.connector.wait_for("a:personal-aad-maria", 2)
                    if "proposes P-1" in p.fallback)
    assert proposal.submits == [("Accept", "partnership P-1 accept"), ("Decline", "partnership P-1 decline")]

    # someone else clicking the same button is refused and changes nothing
    before = await snapshot(teams.bot.db)
    await teams.say(None, sender=OLGA, value={"command": "partnership P-1 accept"}, reply_to="x")
    refusal = (await teams.connector.wait_for("a:personal-aad-olga", 2))[1]
    assert "no invitation to P-1" in refusal.fallback
    assert await snapshot(teams.bot.db) == before

    await teams.say(None, sender=MARIA, value={"command": proposal.submits[0][1]}, reply_to="activity-proposal")
    (p,) = await rows(teams.bot.db, Partnership)
    assert p.status == "active"
    told = await teams.connector.wait_for("a:personal-aad-jonas", 2)
    assert any("Maria accepted P-1" in t.fallback for t in told)

    await teams.say("partnership P-1 add <at>Olga</at>", sender=JONAS, entities=[mention(OLGA)])
    invitation = next(p for p in await teams.connector.wait_for("a:personal-aad-olga", 3)
                      if "invites you to side A" in p.fallback)
    await teams.say(None, sender=OLGA, value={"command": invitation.submits[0][1]}, reply_to="activity-invite")
    assert (await person_named(teams.bot.db, "Olga")).manager_id == (await person_named(teams.bot.db, "Jonas")).id


async def test_only_a_listed_admin_sets_a_manager_on_teams(teams):  # noqa: F811
    await teams.say("admin manager <at>Maria</at> <at>Olga</at>", sender=JONAS,
                    entities=[mention(MARIA), mention(OLGA)])
    (refusal,) = await teams.connector.wait_for("a:personal-aad-jonas")
    assert "Only an admin can set someone's manager" in refusal.fallback
    assert all(p.manager_id is None for p in await rows(teams.bot.db, Person))


async def test_an_admin_listed_in_the_settings_sets_a_manager_on_teams(schema_url, connector, tmp_path, monkeypatch):
    import aiohttp

    from tests.adapters.test_teams_http import TeamsServer, _serve
    from tests.fakes.teams_connector import TENANT

    monkeypatch.chdir(tmp_path)
    bot, runner, url = await _serve(schema_url, {"PARTNERBOT_ADMINS": f"teams:{TENANT}:aad-jonas"})
    try:
        async with aiohttp.ClientSession() as http:
            server = TeamsServer(url, bot, connector, http)
            await server.say("admin manager <at>Maria</at> <at>Olga</at>", sender=JONAS,
                             entities=[mention(MARIA), mention(OLGA)])
            (answer,) = await connector.wait_for("a:personal-aad-jonas")
    finally:
        await runner.cleanup()
    assert "Olga is now Maria's manager" in answer.fallback
    assert (await person_named(bot.db, "Maria")).manager_id == (await person_named(bot.db, "Olga")).id
