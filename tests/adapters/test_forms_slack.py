"""Forms on Slack over real HTTP: a reply with a form opens a modal (views.open on the fake
Slack API); submitting it (a signed view_submission) runs the form's command with the answers.
A person question is a users_select (its answer the mention `<@U…>`), a date question a
datepicker (its answer YYYY-MM-DD)."""
import asyncio
import json
from urllib.parse import parse_qs, urlencode

import pytest

from tests.adapters.test_slack_http import fake_slack, slack  # noqa: F401  (fixtures)
from tests.fakes.slack_requests import button_body, signed_headers, slash_body, view_submission_body
from tests.fakes.survey import answered, survey_registry


@pytest.fixture
def surveyed(slack):
    slack.bot.dispatcher.registry = survey_registry()
    return slack


async def _open(slack, channel: str = "C1") -> tuple[dict, str, dict]:
    """`/partner survey`: the ephemeral answer, the slash command's trigger_id, the modal opened."""
    body = slash_body("survey", channel=channel)
    response = await slack.post(body)
    assert response.status == 200
    (opened,) = await slack.fake.wait_for("views.open")
    return await response.json(), parse_qs(body)["trigger_id"][0], opened.args


def _state(view: dict, answers: dict) -> dict:
    """view.state.values as Slack sends it: each input under its block and action id, its answer
    under the key of its element type (value, selected_user, selected_date; null when empty),
    else what the element started with."""
    keys = {"plain_text_input": ("value", "initial_value"), "users_select": ("selected_user", "initial_user"),
            "datepicker": ("selected_date", "initial_date")}
    values = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        key, initial = keys[element["type"]]
        answer = answers.get(block["block_id"], element.get(initial))
        values[block["block_id"]] = {element["action_id"]: {"type": element["type"], key: answer or None}}
    return {"values": values}


async def _submit(slack, view: dict, answers: dict, user: str = "U1"):
    envelope = json.loads(parse_qs(view_submission_body(view, {}, user=user))["payload"][0])
    envelope["view"]["state"] = _state(view, answers)  # the real shapes of every element type
    body = urlencode({"payload": json.dumps(envelope)})
    return await slack.post(body, signed_headers(body))


async def test_a_slash_command_whose_reply_has_a_form_opens_it_as_a_modal(surveyed):
    answer, trigger_id, opened = await _open(surveyed)
    assert answer["response_type"] == "ephemeral" and answer["text"] == "Opening the survey form…"

    assert opened["trigger_id"] == trigger_id
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"].startswith("pb:form")
    assert view["title"]["text"] == "Weekly peer sync with G…" and len(view["title"]["text"]) == 24
    assert view["submit"]["text"] == "Send answers"
    assert json.loads(view["private_metadata"]) == {"command": "survey submit", "channel": "C1", "direct": False}
    intro, *inputs = view["blocks"]
    assert intro["type"] == "section" and "Answer for your side of P-1" in intro["text"]["text"]
    *texts, person, day = inputs
    assert [(b["type"], b["block_id"], b["label"]["text"], b["optional"], b["element"]["type"],
             b["element"]["multiline"], b["element"].get("initial_value"), b.get("hint", {}).get("text"))
            for b in texts] == [
        ("input", "results", "Results since the last sync", True, "plain_text_input", True, None,
         "Numbers beat adjectives."),
        ("input", "working", "What is working", True, "plain_text_input", True, "joint pipeline reviews", None),
        ("input", "owner", "Who owns the follow-up?", True, "plain_text_input", False, None, None),
    ]
    # a person is picked from the workspace's users, a date from a calendar: nothing to type
    assert person == {"type": "input", "block_id": "owner_pick", "optional": True,
                      "label": {"type": "plain_text", "text": "Partner contact"},
                      "hint": {"type": "plain_text", "text": "The person on their side who follows up."},
                      "element": {"type": "users_select", "action_id": "answer"}}
    assert day == {"type": "input", "block_id": "due", "optional": True,
                   "label": {"type": "plain_text", "text": "Follow up by"},
                   "element": {"type": "datepicker", "action_id": "answer"}}


async def test_submitting_the_modal_closes_it_records_the_answers_and_tells_the_user_by_dm(surveyed):
    _, _, opened = await _open(surveyed, channel="DU1")
    assert json.loads(opened["view"]["private_metadata"])["direct"] is True  # opened in the DM with the bot

    response = await _submit(surveyed, opened["view"], {"results": "2 deals closed\none in review",
                                                        "working": "", "owner": "maria"})
    assert response.status == 200 and await response.text() == ""  # an empty ack closes the modal
    assert await answered(surveyed.bot.db) == [  # pickers left empty answer ""
        {"results": "2 deals closed\none in review", "working": "", "owner": "maria", "owner_pick": "", "due": ""}]

    (dm,) = await surveyed.fake.wait_for("chat.postMessage")
    assert dm.args["channel"] == "DU1"
    assert dm.args["text"].startswith("Survey recorded (direct): due=''; owner='maria'; owner_pick=''")
    assert [c.args["users"] for c in surveyed.fake.calls_to("conversations.open")] == ["U1"]


async def test_an_untouched_prefilled_answer_is_submitted_as_it_stood(surveyed):
    _, _, opened = await _open(surveyed)
    assert (await _submit(surveyed, opened["view"], {"owner": "ana"})).status == 200
    assert await answered(surveyed.bot.db) == [
        {"results": "", "working": "joint pipeline reviews", "owner": "ana", "owner_pick": "", "due": ""}]
    (dm,) = await surveyed.fake.wait_for("chat.postMessage")
    assert "Survey recorded (channel)" in dm.args["text"]


async def test_a_refused_submit_shows_why_in_the_modal_and_keeps_the_answers(surveyed):
    _, _, opened = await _open(surveyed)
    await _submit(surveyed, opened["view"], {"results": "first"})
    await surveyed.fake.wait_for("chat.postMessage")

    response = await _submit(surveyed, opened["view"], {"results": "second try", "owner": "bob",
                                                        "owner_pick": "U2", "due": "2026-12-01"})
    assert response.status == 200
    refused = await response.json()
    assert refused["response_action"] == "update"
    view = refused["view"]
    reason, intro, *inputs = view["blocks"]
    assert "You already answered this week's survey; nothing was changed." in reason["text"]["text"]
    assert "Answer for your side of P-1" in intro["text"]["text"]
    assert [(b["block_id"], b["element"]) for b in inputs] == [  # each input as it was, with its answer
        ("results", {"type": "plain_text_input", "action_id": "answer", "multiline": True,
                     "initial_value": "second try"}),
        ("working", {"type": "plain_text_input", "action_id": "answer", "multiline": True,
                     "initial_value": "joint pipeline reviews"}),
        ("owner", {"type": "plain_text_input", "action_id": "answer", "multiline": False, "initial_value": "bob"}),
        ("owner_pick", {"type": "users_select", "action_id": "answer", "initial_user": "U2"}),
        ("due", {"type": "datepicker", "action_id": "answer", "initial_date": "2026-12-01"}),
    ]
    assert inputs[3]["hint"]["text"] == "The person on their side who follows up."
    assert view["private_metadata"] == opened["view"]["private_metadata"]
    assert view["submit"]["text"] == "Send answers"  # fix and send again, or cancel

    assert await answered(surveyed.bot.db) == [
        {"results": "first", "working": "joint pipeline reviews", "owner": "", "owner_pick": "", "due": ""}]
    await asyncio.sleep(0.3)
    assert len(surveyed.fake.calls_to("chat.postMessage")) == 1  # no message about the refused one

    again = await (await _submit(surveyed, view, {"results": "third", "due": None})).json()  # from the refusal
    assert [b.get("block_id") for b in again["view"]["blocks"]].count("pb:refusal:0") == 1  # one reason, not two
    *_, person, day = again["view"]["blocks"]
    assert person["element"] == {"type": "users_select", "action_id": "answer", "initial_user": "U2"}  # still picked
    assert day["element"] == {"type": "datepicker", "action_id": "answer"}  # cleared: no initial_date


async def test_a_button_whose_reply_has_a_form_opens_it_with_the_clicks_trigger(surveyed):
    click = button_body("survey", user="U1", channel="DU1", message_ts="1.000100")
    assert (await surveyed.post(click)).status == 200
    (opened,) = await surveyed.fake.wait_for("views.open")
    assert opened.args["trigger_id"] == json.loads(parse_qs(click)["payload"][0])["trigger_id"]
    assert json.loads(opened.args["view"]["private_metadata"]) == {
        "command": "survey submit", "channel": "DU1", "direct": True}
    await asyncio.sleep(0.3)
    assert surveyed.fake.calls_to("chat.postEphemeral") == []  # the modal is the answer


async def test_a_form_slack_would_not_open_is_reported_in_the_answer(surveyed):
    await surveyed.slash("help")  # users.info answered and remembered
    surveyed.fake.fail_next = [(200, "expired_trigger_id")]
    answer = await surveyed.slash("survey")
    assert "Opening the survey form…" in answer["text"]
    assert "Slack would not open the form (expired_trigger_id)" in answer["text"]


async def test_a_submission_without_its_command_changes_nothing(surveyed):
    _, _, opened = await _open(surveyed)
    forged = {**opened["view"], "private_metadata": "not json"}
    refused = await (await _submit(surveyed, forged, {"results": "x"})).json()
    assert refused["response_action"] == "update"
    assert "incomplete" in json.dumps(refused["view"]) and "submit" not in refused["view"]
    assert await answered(surveyed.bot.db) == []


async def test_a_typed_submit_gets_no_form_values_and_is_refused(surveyed):
    answer = await surveyed.slash("survey submit")
    assert "Answer the survey in its form" in answer["text"]
    assert surveyed.fake.calls_to("views.open") == []


async def test_a_picked_person_and_date_reach_the_handler_as_a_mention_and_yyyy_mm_dd(surveyed):
    surveyed.fake.names["U2"] = "Bob Lee"  # users.info knows U2's display name
    _, _, opened = await _open(surveyed)
    response = await _submit(surveyed, opened["view"], {"owner_pick": "U2", "due": "2026-12-01"})
    assert response.status == 200 and await response.text() == ""
    assert await answered(surveyed.bot.db) == [{"results": "", "working": "joint pipeline reviews", "owner": "",
                                                "owner_pick": "<@U2>", "due": "2026-12-01"}]
    (dm,) = await surveyed.fake.wait_for("chat.postMessage")
    # the echoed answer is plain text: the mention shows as a name, never as a live <@U2>
    assert "due='2026-12-01'" in dm.args["text"] and "owner_pick='@U2'" in dm.args["text"]
    assert dm.args["text"].endswith("(partner contact: Bob Lee)")  # the name came along in mention_names
    assert [c.args["user"] for c in surveyed.fake.calls_to("users.info")] == ["U1", "U2"]


async def test_a_picked_persons_name_that_slack_will_not_give_leaves_them_known_by_id(surveyed):
    _, _, opened = await _open(surveyed)  # U1's timezone is looked up and remembered here
    surveyed.fake.fail_next = [(200, "user_not_found")]  # the next call: users.info for U2
    response = await _submit(surveyed, opened["view"], {"owner_pick": "U2"})
    assert response.status == 200 and await response.text() == ""
    assert [a["owner_pick"] for a in await answered(surveyed.bot.db)] == ["<@U2>"]
    (dm,) = await surveyed.fake.wait_for("chat.postMessage")
    assert dm.args["text"].endswith("(partner contact: U2)")
    assert [c.args["user"] for c in surveyed.fake.calls_to("users.info#user_not_found")] == ["U2"]


def test_prefilled_person_and_date_questions_start_with_their_answer_picked():
    from adapters.slack.render import modal
    from handlers.kernel.model import Form, Question

    view = modal(Form("T", "t submit", (
        Question("who", "Who?", kind="person", value="<@U7|Zoe>"),
        Question("when", "When?", kind="date", value="2026-12-01"),
        Question("who2", "Who else?", kind="person", value="zoe"),  # not a mention: nothing to pick
        Question("when2", "When else?", kind="date", value="fri"),  # a phrase: a datepicker cannot show it
        Question("when3", "And?", kind="date", value="2026-02-30"),  # not a real day: Slack would refuse the view
    )))
    assert [b["element"] for b in view["blocks"]] == [
        {"type": "users_select", "action_id": "answer", "initial_user": "U7"},
        {"type": "datepicker", "action_id": "answer", "initial_date": "2026-12-01"},
        {"type": "users_select", "action_id": "answer"},
        {"type": "datepicker", "action_id": "answer"},
        {"type": "datepicker", "action_id": "answer"},
    ]
