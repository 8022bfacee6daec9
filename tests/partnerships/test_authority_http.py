"""The authority attacks of issue 19 replayed as signed Slack requests against `serve`'s web app:
each refused, with nothing changed; and the admin's right read from Slack's users.info."""
from storage.models import Person
from tests.adapters.test_slack_http import fake_slack, slack  # noqa: F401  (fixtures: serve + fake Slack)
from tests.helpers import person_named, rows, snapshot

ANA, DANA, BOB, DAVE, MARIA, EVE, ADMIN = "U1", "U2", "U3", "U4", "U5", "U6", "U9"


def at(user: str, name: str) -> str:
    return f"<@{user}|{name}>"


async def _refused(slack, db, user: str, text: str, reason: str) -> None:  # noqa: F811
    before = await snapshot(db)
    answer = await slack.slash(text, user=user)
    assert reason in answer["text"], answer["text"]
    assert await snapshot(db) == before


async def test_a_rep_cannot_make_themselves_someones_manager_over_slack(slack):  # noqa: F811
    db = slack.bot.db
    slack.fake.admins = {ADMIN}
    answer = await slack.slash(f"admin manager {at(BOB, 'bob')} {at(DANA, 'dana')}", user=ADMIN)
    assert "dana is now bob's manager" in answer["text"]
    dana = await person_named(db, "dana")

    # the takeover: ana proposes a partnership with dave and adds bob to it
    assert "pending" in (await slack.slash(f"partnership new Takeover with {at(DAVE, 'dave')}", user=ANA))["text"]
    await _refused(slack, db, ANA, f"partnership P-1 add {at(BOB, 'bob')} side a", "P-1 Takeover is pending")
    await _refused(slack, db, ANA, f"admin manager {at(BOB, 'bob')} {at(ANA, 'ana')}", "Only an admin")
    await _refused(slack, db, ANA, f"report {at(BOB, 'bob')}", "can see their scorecard")
    await _refused(slack, db, ANA, f"list {at(BOB, 'bob')}", "can see their list")
    await _refused(slack, db, ANA, f"commit call them by tomorrow to {at(BOB, 'bob')}", "Only bob's manager")
    assert (await person_named(db, "bob")).manager_id == dana.id
    # the admin's right came from Slack (users.info is_admin), asked for the admin's own id
    assert {c.args.get("user") for c in slack.fake.calls if c.method == "users.info"} >= {ADMIN, ANA}


async def test_strangers_claim_no_credit_and_an_unaccepted_handoff_is_not_won_over_slack(slack):  # noqa: F811
    db = slack.bot.db
    assert "H-1" in (await slack.slash(f"handoff {at(DANA, 'dana')} Acme Corp: security review", user=MARIA))["text"]
    await _refused(slack, db, EVE, "commit claim credit by tomorrow re H-1", "Only the two reps of H-1")
    await _refused(slack, db, MARIA, "win H-1 50k", "never accepted by the rep it was handed to")
    await _refused(slack, db, MARIA, "handoff H-1 won 50k", "never accepted")
    assert "accepted" in (await slack.slash("handoff H-1 accept", user=DANA))["text"]
    assert "H-1 won" in (await slack.slash("win H-1 50k", user=MARIA))["text"]
    # maria and dana: eve's refused command did not even leave her a person row
    assert sorted(p.display_name for p in await rows(db, Person)) == ["dana", "u5"]
