"""Forms on Teams over real HTTP: a reply with a form is an Adaptive Card with inputs; its
submit (the inputs merged into `activity.value`) runs the form's command with the answers.
A person question is a people picker (it submits an AAD object id, answered as the mention
`<@id>`), a date question an Input.Date (YYYY-MM-DD)."""
import pytest

from adapters.teams.translate import from_activity
from tests.adapters.test_teams_http import ANA, CARL, MARIA, teams  # noqa: F401  (fixture)
from tests.fakes.survey import answered, survey_registry
from tests.fakes.teams_connector import BOT, mention

CHAT = "a:personal-aad-ana"


@pytest.fixture
def surveyed(teams):
    teams.bot.dispatcher.registry = survey_registry()
    return teams


def _inputs(card: dict) -> list[dict]:
    return [element for element in card["body"] if element["type"] == "Input.Text"]


def _input(card: dict, id_: str) -> dict:
    (found,) = [element for element in card["body"] if element.get("id") == id_]
    return found


NO_PICKS = {"owner_pick": "", "due": ""}


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
    # a person is picked from the organisation's directory, a date from a calendar
    assert _input(card, "owner_pick") == {
        "type": "Input.ChoiceSet", "id": "owner_pick", "label": "Partner contact", "isRequired": False,
        "isMultiSelect": False, "choices": [],
        "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}}
    assert "The person on their side who follows up." in texts
    assert _input(card, "due") == {"type": "Input.Date", "id": "due", "label": "Follow up by", "isRequired": False}
    (submit,) = card["actions"]
    assert submit["type"] == "Action.Submit" and submit["title"] == "Send answers"
    assert submit["data"] == {"command": "survey submit", "pb_form": True,
                              "pb_inputs": ["results", "working", "owner", "owner_pick", "due"],
                              "pb_people": ["owner_pick"]}


async def test_submitting_the_card_records_the_answers_and_replaces_the_form_with_the_result(surveyed):
    await surveyed.say("survey")
    (posted,) = await surveyed.connector.wait_for(CHAT)
    data = posted.card["actions"][0]["data"]
    # Teams merges the inputs into the submit's data; it may leave an empty input out
    await surveyed.say(None, value={**data, "results": "2 deals closed\r\none in review", "owner": "maria"},
                       reply_to="activity-form")
    assert await answered(surveyed.bot.db) == [
        {"results": "2 deals closed\r\none in review", "working": "", "owner": "maria", **NO_PICKS}]
    result = (await surveyed.connector.wait_for(CHAT, 2))[1]
    assert result.method == "PUT" and result.reply_to == "activity-form"  # the filled form is replaced
    assert result.fallback.startswith("Survey recorded (direct): due=''; owner='maria'; owner_pick=''")
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
    assert await answered(surveyed.bot.db) == [{"results": "", "working": "", "owner": "maria", **NO_PICKS}]


async def test_a_picked_person_and_date_reach_the_handler_as_a_mention_and_yyyy_mm_dd(surveyed):
    await surveyed.say("help", sender=CARL)  # the bot knows Carl by name from his own message
    await surveyed.say("survey")
    data = (await surveyed.connector.wait_for(CHAT))[0].card["actions"][0]["data"]
    # as Teams submits it: the people picker's value is the AAD object id, Input.Date's YYYY-MM-DD
    await surveyed.say(None, value={**data, "owner_pick": "aad-carl", "due": "2026-12-01"}, reply_to="activity-form")
    assert await answered(surveyed.bot.db) == [
        {"results": "", "working": "", "owner": "", "owner_pick": "<@aad-carl>", "due": "2026-12-01"}]
    result = (await surveyed.connector.wait_for(CHAT, 2))[1]
    assert "due='2026-12-01'" in result.fallback and "owner_pick='<@aad-carl>'" in result.fallback
    assert result.fallback.endswith("(partner contact: Carl)")  # the same person as Carl's own messages


async def test_a_person_nobody_has_named_yet_is_known_by_their_aad_id(surveyed):
    await surveyed.say("survey")
    data = (await surveyed.connector.wait_for(CHAT))[0].card["actions"][0]["data"]
    await surveyed.say(None, value={**data, "owner_pick": "aad-zoe"}, reply_to="activity-form")
    result = (await surveyed.connector.wait_for(CHAT, 2))[1]
    assert result.fallback.endswith("(partner contact: aad-zoe)")


def test_prefilled_person_and_date_questions_start_with_their_answer_picked():
    from adapters.teams.render import adaptive_card
    from handlers.kernel.model import Form, Question, Reply

    card = adaptive_card(Reply("x", form=Form("T", "t submit", (
        Question("who", "Who?", kind="person", value="<@aad-zoe|Zoe>"),
        Question("who2", "Who else?", kind="person", value="<@aad-max>"),
        Question("when", "When?", kind="date", value="2026-12-01"),
        Question("when2", "When else?", kind="date", value="fri"),  # a phrase: Input.Date cannot show it
    ))))
    who, who2 = _input(card, "who"), _input(card, "who2")
    assert who["value"] == "aad-zoe" and who["choices"] == [{"title": "Zoe", "value": "aad-zoe"}]  # shown by name
    assert who2["value"] == "aad-max" and who2["choices"] == []
    assert _input(card, "when")["value"] == "2026-12-01" and "value" not in _input(card, "when2")
    data = card["actions"][0]["data"]
    assert data["pb_people"] == ["who", "who2"] and data["pb_names"] == {"aad-zoe": "Zoe"}

    submitted = from_activity(_message(value={**data, "who": "aad-zoe", "who2": "aad-max", "when": "2026-12-02"}))
    assert submitted.form_values == {"who": "<@aad-zoe|Zoe>", "who2": "<@aad-max>", "when": "2026-12-02", "when2": ""}
    assert submitted.mention_names == {"aad-zoe": "Zoe"}


def test_a_person_answer_that_is_not_an_id_is_passed_on_for_the_handler_to_refuse():
    value = {"command": "t submit", "pb_form": True, "pb_inputs": ["who", "note"], "pb_people": ["who"],
             "who": "Zoe <zoe@x>", "note": "aad-zoe"}
    assert from_activity(_message(value=value)).form_values == {"who": "Zoe <zoe@x>", "note": "aad-zoe"}


def _message(**kw) -> dict:
    from tests.fakes.teams_connector import message

    return message(None, sender=ANA, service_url="http://x/", **kw)


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
    from handlers.kernel.model import Form, Question, Reply

    with pytest.raises(ValueError, match="command"):
        adaptive_card(Reply("x", form=Form("T", "t submit", (Question("command", "Command?"),))))
