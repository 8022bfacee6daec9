"""Forms on Teams over real HTTP: a reply with a form is an Adaptive Card with inputs; its
submit (the inputs merged into `activity.value`) runs the form's command with the answers."""
import pytest

from adapters.teams.translate import from_activity
from tests.fakes.survey import answered, survey_registry
from tests.fakes.teams_connector import BOT, mention
from tests.test_teams_http import ANA, MARIA, teams  # noqa: F401  (fixture)

CHAT = "a:personal-aad-ana"


@pytest.fixture
def surveyed(teams):  # noqa: F811
    teams.bot.dispatcher.registry = survey_registry()
    return teams


def _inputs(card: dict) -> list[dict]:
    return [element for element in card["body"] if element["type"] == "Input.Text"]


async def test_a_reply_with_a_form_is_a_card_with_one_input_per_question_and_a_submit(surveyed):
    await surveyed.say("survey")
    (posted,) = await surveyed.connector.wait_for(CHAT)
    card = posted.card
    assert card["version"] == "1.5" and posted.fallback == "Opening the survey form…"
    texts = [e["text"] for e in card["body"] if e["type"] == "TextBlock"]
    assert texts[:2] == ["Weekly peer sync with Globex Corp", "Answer for your side of P-1. Skip what does not apply."]
    assert "Numbers beat adjectives." in texts
    assert [(i["id"], i["label"], i["isMultiline"], i.get("value")) for i in _inputs(card)] == [
        ("results", "Results since the last sync", True, None),
        ("working", "What is working", True, "joint pipeline reviews"),
        ("owner", "Who owns the follow-up?", False, None),
    ]
    (submit,) = card["actions"]
    assert submit["type"] == "Action.Submit" and submit["title"] == "Send answers"
    assert submit["data"]["command"] == "survey submit" and submit["data"]["pb_form"] is True


async def test_submitting_the_card_records_the_answers_and_replaces_the_form_with_the_result(surveyed):
    await surveyed.say("survey")
    (posted,) = await surveyed.connector.wait_for(CHAT)
    data = posted.card["actions"][0]["data"]
    # Teams merges the inputs into the submit's data; it may leave an empty input out
    await surveyed.say(None, value={**data, "results": "2 deals closed\r\none in review", "owner": "maria"},
                       reply_to="activity-form")
    assert await answered(surveyed.bot.db) == [
        {"results": "2 deals closed\r\none in review", "working": "", "owner": "maria"}]
    result = (await surveyed.connector.wait_for(CHAT, 2))[1]
    assert result.method == "PUT" and result.reply_to == "activity-form"  # the filled form is replaced
    assert result.fallback.startswith("Survey recorded (direct): owner='maria'")
    assert "actions" not in result.card and _inputs(result.card) == []


async def test_a_refused_submit_is_answered_and_leaves_the_form_in_place(surveyed):
    await surveyed.say("survey")
    data = (await surveyed.connector.wait_for(CHAT))[0].card["actions"][0]["data"]
    await surveyed.say(None, value={**data, "results": "first"}, reply_to="activity-form")
    await surveyed.connector.wait_for(CHAT, 2)
    await surveyed.say(None, value={**data, "results": "second"}, reply_to="activity-form")
    refusal = (await surveyed.connector.wait_for(CHAT, 3))[2]
    assert refusal.method == "POST" and "You already answered this week's survey" in refusal.fallback
    assert [a["results"] for a in await answered(surveyed.bot.db)] == ["first"]


async def test_a_form_in_a_channel_is_not_direct(surveyed):
    await surveyed.say("<at>Partnerbot</at> survey", channel=True, entities=[mention(BOT)])
    (posted,) = await surveyed.connector.wait_for("19:channel@thread.tacv2")
    data = posted.card["actions"][0]["data"]
    await surveyed.say(None, sender=MARIA, channel=True, value={**data, "owner": "maria"}, reply_to="activity-form")
    result = (await surveyed.connector.wait_for("19:channel@thread.tacv2", 2))[1]
    assert "Survey recorded (channel)" in result.fallback
    assert await answered(surveyed.bot.db) == [{"results": "", "working": "", "owner": "maria"}]


def test_a_submit_becomes_form_values_and_a_button_click_does_not():
    from tests.fakes.teams_connector import message

    def command(value: dict, **kw):
        return from_activity(message(None, sender=ANA, service_url="http://x/", value=value, **kw))

    submitted = command({"command": " survey submit ", "pb_form": True, "pb_inputs": ["a", "b", "c"],
                         "a": "yes", "c": "", "extra": "kept", "count": 3})
    assert submitted.text == "survey submit" and submitted.is_direct and submitted.from_button
    assert submitted.form_values == {"a": "yes", "b": "", "c": "", "extra": "kept"}
    clicked = command({"command": "handoff H-1 accept"}, channel=True)
    assert clicked.form_values is None and not clicked.is_direct
    typed = from_activity(message("list", sender=ANA, service_url="http://x/"))
    assert typed.form_values is None and typed.is_direct


def test_a_question_id_that_would_clash_with_the_submit_data_is_refused():
    from adapters.teams.render import adaptive_card
    from handlers.model import Form, Question, Reply

    with pytest.raises(ValueError, match="command"):
        adaptive_card(Reply("x", form=Form("T", "t submit", (Question("command", "Command?"),))))
