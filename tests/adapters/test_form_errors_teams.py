"""A choice question as a Teams choice set, and a form refused field by field as the same card
with the answers filled in and each reason under its field (the Bot Framework flows are in
tests/processes: the pulse and the meeting's action items)."""
from adapters.teams.render import adaptive_card
from handlers.kernel.model import FIX_FORM, Form, Question, Reply

RATINGS = ("1", "2", "3", "4", "5")
FORM = Form("Health pulse P-1", "pulse submit P-1", (
    Question("risk", "Shared risk", multiline=False, kind="choice", choices=RATINGS),
    Question("vision", "Shared vision", multiline=False, kind="choice", choices=RATINGS),
    Question("owner", "Owner", kind="person"),
    Question("comment", "Comment"),
))


def test_a_choice_is_a_compact_choice_set_prefilled_only_with_one_of_its_choices():
    card = adaptive_card(Reply("Opening", form=FORM.refused({"risk": "4", "vision": "9"}, {})))
    risk, vision = (e for e in card["body"] if e.get("type") == "Input.ChoiceSet" and e["id"] in ("risk", "vision"))
    assert (risk["style"], risk["isMultiSelect"], risk["value"]) == ("compact", False, "4")
    assert risk["choices"] == [{"title": c, "value": c} for c in RATINGS]
    assert "value" not in vision
    assert FIX_FORM not in str(card)  # nothing refused: no warning


def test_a_refused_form_says_what_to_do_and_puts_each_reason_under_its_field_with_the_answers_kept():
    refused = FORM.refused({"risk": "3", "vision": "", "owner": "<@aad-maria|Maria>", "comment": "*kept*"},
                           {"vision": "Missing: pick 1 (poor) to 5 (strong).", "comment": "Too [long]."})
    body = adaptive_card(Reply("Nothing was saved yet", ok=False, form=refused))["body"]
    assert [e["text"] for e in body if e.get("color") == "Attention"] == [
        FIX_FORM, "Missing: pick 1 (poor) to 5 (strong).", "Too \\[long\\]."]  # user text stays text
    ids = [e.get("id") or e.get("text") for e in body]
    assert ids.index("Missing: pick 1 (poor) to 5 (strong).") == ids.index("vision") + 1
    assert ids.index("Too \\[long\\].") == ids.index("comment") + 1
    values = {e["id"]: e.get("value") for e in body if e["type"].startswith("Input.")}
    assert values == {"risk": "3", "vision": None, "owner": "aad-maria", "comment": "*kept*"}
    owner = next(e for e in body if e.get("id") == "owner")
    assert owner["choices"] == [{"title": "Maria", "value": "aad-maria"}]  # the picker shows her name
