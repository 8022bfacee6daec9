"""help: every verb, or one verb with examples: those of the registry the command came through."""
from __future__ import annotations

from handlers.kernel.context import Context
from handlers.kernel.dates import DATE_FORMS
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.registry import Verb


async def help_verb(ctx: Context, args: str) -> Reply:
    name = args.strip().lower()
    if name:
        verb = ctx.registry.get(name)
        if verb is None:
            raise UserError(f"There is no verb '{name}'.")
        examples = "\n".join(f"  {e}" for e in verb.examples)
        usage = "\n".join(f"  {u}" for u in verb.usage)
        return Reply(f"{verb.name}: {verb.summary}\nUsage:\n{usage}\nExamples:\n{examples}\nDates: {DATE_FORMS}.")
    lines = [f"{v.usage[0]} — {v.summary}" for v in ctx.registry]
    return Reply("Partnerbot verbs (`help <verb>` for examples):\n" + "\n".join(lines)
                 + "\nMention people with @. References like C-3 or H-1 can be typed c3 too.")


VERBS = [
    Verb("help", ("help [verb]",), "this list, or one verb with examples", ("help", "help commit"), help_verb),
]
