"""A test verb with a form, for the adapters' form tests (no real handler opens one yet).

`survey` opens the form; `survey submit` with the form's answers records them in the
activity log and echoes them (and, when `owner_pick` is a mention, the name of that person as
the bot now knows them); a second submit by the same person is refused, as is a
`survey submit` typed without a form.

Run as `python -m tests.fakes.survey [--as NAME]`: `partnerbot console` with this verb added.
"""
from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import select

from handlers import default_registry
from handlers.kernel.context import Context
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import take_mention
from handlers.kernel.model import Form, Question, Reply
from handlers.kernel.outbound import key
from handlers.kernel.registry import Registry, Verb
from storage.models import ActivityLog

FORM = Form(
    title="Weekly peer sync with Globex Corp",  # longer than Slack's 24-character modal title
    submit_command="survey submit",
    intro="Answer for your side of P-1. Skip what does not apply.",
    questions=(
        Question("results", "Results since the last sync", hint="Numbers beat adjectives."),
        Question("working", "What is working", value="joint pipeline reviews"),
        Question("owner", "Who owns the follow-up?", multiline=False),
        Question("owner_pick", "Partner contact", multiline=False, kind="person",
                 hint="The person on their side who follows up."),
        Question("due", "Follow up by", multiline=False, kind="date"),
    ),
    submit_label="Send answers",
)


async def survey(ctx: Context, args: str) -> Reply:
    answers = ctx.command.form_values
    if args.strip() != "submit":
        return Reply("Opening the survey form…", form=FORM)
    if answers is None:
        raise UserError("Answer the survey in its form: type `survey`.")
    # once per person: the claim stays only when the answer is saved (a refusal rolls it back)
    if not await ctx.store.claim(key("survey.answered", ctx.workspace.id, "survey", "-", ctx.caller.id), ctx.now):
        raise UserError("You already answered this week's survey; nothing was changed.")
    await ctx.log("survey.answered", "survey", after=dict(answers))
    shown = "; ".join(f"{key}={value!r}" for key, value in sorted(answers.items()))
    where = "direct" if ctx.command.is_direct else "channel"
    picked = take_mention(answers.get("owner_pick") or "")
    if picked:  # the person as a handler sees them: named by the mention or Command.mention_names
        person = await ctx.mentioned_person(picked[0], picked[1])
        shown += f" (partner contact: {person.display_name})"
    return Reply(f"Survey recorded ({where}): {shown}", replace_source=ctx.command.from_button)


SURVEY = Verb("survey", ("survey", "survey submit"), "a test form", ("survey",), survey)


def survey_registry() -> Registry:
    return default_registry().with_verbs(SURVEY)


async def answered(db) -> list[dict]:
    """Every recorded set of answers, oldest first."""
    async with db.session() as session:
        rows = (await session.exec(select(ActivityLog).where(ActivityLog.action == "survey.answered")
                                   .order_by(ActivityLog.id))).scalars().all()
    return [row.after for row in rows]


def main() -> None:
    from bot.config import load_settings
    from bot.console import run_console
    from bot.wiring import Partnerbot

    parser = argparse.ArgumentParser()
    parser.add_argument("--as", dest="user", default="ana")
    parser.add_argument("--workspace", default="console")
    args = parser.parse_args()
    bot = Partnerbot(load_settings(), registry=survey_registry())
    asyncio.run(run_console(bot, args.user, args.workspace))


if __name__ == "__main__":
    main()
