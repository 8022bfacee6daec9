"""A form refused field by field on the console: only the refused questions are asked again,
each with its reason, the other answers stand; a rating is picked from 1-5 right there.

The end-to-end test runs real `partnerbot console` processes on one database: Ana opens a
partnership with Dana, asks for its health pulse and answers it, leaving one rating out."""
import asyncio
import io

import pytest

from adapters.console.console import ask_form
from handlers.kernel.model import Form, Question, Reply
from storage.models import PulseAnswer
from tests.conftest import migrated
from tests.helpers import person_named, rows
from tests.spawn import clean_env, start

RATINGS = ("1", "2", "3", "4", "5")


async def _console(tmp_path, db_url, user: str, lines: str) -> str:
    process = await start("console", "--as", user, cwd=tmp_path, env=clean_env(DATABASE_URL=db_url),
                          stdin=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(lines.encode()), 30)
    assert process.returncode == 0, out.decode()
    return out.decode()


def _reader(*typed: str):
    lines = iter(f"{line}\n" for line in typed)

    async def read_line() -> str:
        return next(lines, "")

    return read_line


@pytest.mark.process
async def test_the_console_asks_again_only_the_rating_that_was_refused_and_keeps_the_rest(tmp_path, db_url):
    await _console(tmp_path, db_url, "ana", "partnership new Acme Alliance with @dana\n")
    assert "accepted" in await _console(tmp_path, db_url, "dana", "partnership P-1 accept\n")
    out = await _console(tmp_path, db_url, "ana", "\n".join([
        "pulse P-1",
        "7", "4",  # risk: 7 is no choice, asked again right there; then 4
        "",  # resources left out: the bot refuses it
        "2", "5", "4",  # rewards, vision, values
        "Joint calls help", "",  # the comment, up to an empty line
        "3",  # resources, asked again alone
    ]) + "\n")
    first, _, again = out.partition("Nothing was saved yet: fix the marked answers and submit again")
    assert "Shared risk\n  (1 (poor) to 5 (strong))\n  (pick one: 1-5)\n" in first
    assert "'7' is not one of 1-5: pick one of them." in first
    # the refusal says what is wrong, then asks only that rating again, with the reason
    assert "• Shared resources: Missing: pick 1 (poor) to 5 (strong)." in again
    asked = again.split("── Health pulse P-1 ──", 1)[1]
    assert "Shared resources\n  ✗ Missing: pick 1 (poor) to 5 (strong).\n" in asked
    for other in ("Shared risk", "Shared rewards", "Shared vision", "Shared values", "Comment (optional)"):
        assert other not in asked
    assert "Your health pulse answer for P-1 Acme Alliance is saved." in asked
    async with migrated(db_url) as db:
        ana = await person_named(db, "ana")
        (saved,) = await rows(db, PulseAnswer, PulseAnswer.person_id == ana.id)
        assert saved.scores == {"risk": 4, "resources": 3, "rewards": 2, "vision": 5, "values": 4}
        assert saved.comment == "Joint calls help"


async def test_a_choice_is_asked_again_until_it_is_one_of_its_choices():
    form = Form("Pulse", "pulse submit", (Question("risk", "Shared risk", kind="choice", choices=RATINGS),
                                          Question("tone", "Tone", kind="choice", choices=("calm", "tense"))))
    out = io.StringIO()
    assert await ask_form(form, _reader("6", "five", "5", "angry", "tense"), out) == {"risk": "5", "tone": "tense"}
    shown = out.getvalue()
    assert "'6' is not one of 1-5" in shown and "'five' is not one of 1-5" in shown
    assert "Tone\n  (pick one: calm or tense)\n" in shown and "'angry' is not one of calm or tense" in shown


async def test_a_refused_form_asks_only_its_refused_questions_and_a_kept_bad_choice_is_asked_again():
    form = Form("Pulse", "pulse submit", (
        Question("risk", "Shared risk", kind="choice", choices=RATINGS),
        Question("vision", "Shared vision", kind="choice", choices=RATINGS),
        Question("comment", "Comment"),
    )).refused({"risk": "9", "vision": "4", "comment": "kept"}, {"risk": "9 is outside 1 to 5."})
    out = io.StringIO()
    # Enter would keep 9: still no choice, so it is asked again
    assert await ask_form(form, _reader("", "2"), out) == {"risk": "2", "vision": "4", "comment": "kept"}
    shown = out.getvalue()
    assert "Shared risk\n  ✗ 9 is outside 1 to 5.\n" in shown and "Shared vision" not in shown
    assert "'9' is not one of 1-5" in shown


def test_a_refused_form_goes_through_the_outbox_and_back_with_its_answers_and_reasons():
    form = Form("Pulse", "pulse submit", (Question("risk", "Shared risk", kind="choice", choices=RATINGS),
                                          Question("comment", "Comment")))
    refused = form.refused({"risk": "9", "comment": "kept"}, {"risk": "9 is outside 1 to 5."})
    reply = Reply("Nothing was saved yet", ok=False, form=refused)
    back = Reply.from_dict(reply.to_dict())
    assert back == reply
    assert back.form.errors == {"risk": "9 is outside 1 to 5."}
    assert [(q.value, q.choices) for q in back.form.questions] == [("9", RATINGS), ("kept", ())]
