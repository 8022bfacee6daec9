"""A choice question as a Slack select, and a form refused field by field as Slack's
`response_action: "errors"` (the HTTP flows are in tests/processes: the pulse and the meeting's
action items)."""
import json
from urllib.parse import parse_qs

from adapters.slack import translate
from adapters.slack.render import field_errors, modal, refused_modal
from handlers.kernel.model import Form, Question
from tests.fakes.slack_requests import view_submission_body

RATINGS = ("1", "2", "3", "4", "5")
FORM = Form("Health pulse P-1", "pulse submit P-1", (
    Question("risk", "Shared risk", multiline=False, kind="choice", choices=RATINGS, hint="1 (poor) to 5 (strong)"),
    Question("comment", "Comment"),
))


def test_a_choice_is_a_select_of_its_choices_prefilled_only_with_one_of_them():
    view = modal(FORM.refused({"risk": "4", "comment": "ok"}, {}))
    select = view["blocks"][0]["element"]
    assert select["type"] == "static_select" and select["placeholder"]["text"] == "Pick 1-5"
    assert [(o["text"]["text"], o["value"]) for o in select["options"]] == [(c, c) for c in RATINGS]
    assert select["initial_option"] == {"text": {"type": "plain_text", "text": "4"}, "value": "4"}
    not_a_choice = modal(FORM.refused({"risk": "9"}, {}))["blocks"][0]["element"]
    assert "initial_option" not in not_a_choice  # Slack refuses a view whose initial option it does not offer


def test_the_picked_option_is_the_answer_and_an_unpicked_select_is_empty():
    view = modal(FORM)
    for picked, answer in (("3", "3"), (None, "")):
        body = parse_qs(view_submission_body(view, {"risk": picked, "comment": "fine"}))["payload"][0]
        command = translate.from_view_submission(json.loads(body), None)
        assert command.form_values == {"risk": answer, "comment": "fine"}


def test_field_errors_go_under_their_blocks_only_when_the_view_has_every_one_of_them():
    view = modal(FORM)
    refused = FORM.refused({"risk": ""}, {"risk": "Missing: pick 1 (poor) to 5 (strong)."})
    assert field_errors(view, refused) == {"risk": "Missing: pick 1 (poor) to 5 (strong)."}
    assert field_errors(view, FORM) is None  # no field errors: the modal shows the reason on top
    elsewhere = Form("T", "t", (Question("other", "Other"),)).refused({}, {"other": "Wrong."})
    assert field_errors(view, elsewhere) is None  # Slack would refuse an error for a block it has not


def test_a_modal_refused_on_top_keeps_its_selects_and_what_was_picked():
    view = modal(FORM)
    again = refused_modal(view, "P-1 has no health pulse open.", {"risk": "2", "comment": "kept"})
    select = again["blocks"][1]["element"]
    assert [o["value"] for o in select["options"]] == list(RATINGS) and select["initial_option"]["value"] == "2"
    assert again["blocks"][2]["element"]["initial_value"] == "kept"
