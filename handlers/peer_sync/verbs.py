"""sync: open the peer-sync form now, answer it, edit the answer before the digest."""
from __future__ import annotations

from dataclasses import replace

from handlers.kernel.context import Context, JobContext
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import parse_ref
from handlers.kernel.model import Button, Card, Reply
from handlers.kernel.outbound import reachable
from handlers.kernel.registry import Verb
from handlers.kernel.rules import week_of
from handlers.meetings.service import calendar_link, revoke_calendar_links
from handlers.partnerships import policy
from handlers.partnerships.service import find_partnership
from handlers.peer_sync.messages import answer_form
from handlers.peer_sync.service import open_week_sync, prompt, save_answer, send_digest
from storage.models import Partnership, PeerSync, SyncAnswer


async def sync(ctx: Context, args: str) -> Reply:
    action, _, rest = args.strip().partition(" ")
    action, rest = action.lower(), rest.strip()
    if action == "now":
        return await _now(ctx, rest)
    if action == "calendar":
        return await _calendar(ctx, rest)
    if action in ("answer", "edit", "submit"):
        token, _, flag = rest.partition(" ")
        if not token:
            raise UserError(f"Say which peer sync: `sync {action} S-1`.")
        s, p, mine = await _own_part(ctx, token)
        if action == "submit":
            return await _submit(ctx, s, p, mine, edit=flag.strip().lower() == "edit")
        return _open_form(ctx, s, p, mine, edit=action == "edit")
    raise UserError("Say `sync now [P-n]` to open this week's peer-sync form, or `sync calendar P-n` to have it "
                    "in your calendar.")


async def _calendar(ctx: Context, rest: str) -> Reply:
    """`sync calendar P-n [revoke]`: the caller's own weekly peer-sync prompt in their calendar."""
    words = rest.split()
    revoke = bool(words) and words[-1].lower() == "revoke"
    words = words[:-1] if revoke else words
    if len(words) != 1 or parse_ref(words[0], "P") is None:
        raise UserError("Say which partnership: `sync calendar P-1` (or `sync calendar P-1 revoke`).")
    p = await find_partnership(ctx, words[0])
    if not await policy.manages(ctx, p):
        raise UserError(f"Only the two managers of {p.ref} hold its peer sync, so only they can have it in "
                        f"their calendar.")
    what = f"your peer sync of {p.ref} ({p.name})"
    if revoke:
        return await revoke_calendar_links(ctx, p, None, what)
    policy.require_accepted(p, "hold its peer sync")
    if await ctx.store.sync_series_of(p.id, ctx.caller.id) is None:
        raise UserError(f"Your peer sync of {p.ref} has no weekly prompt yet; it gets one when {p.ref} is accepted.")
    return await calendar_link(ctx, p, None, what, f"sync calendar {p.ref} revoke")


def _scheduled(ctx: Context) -> JobContext:
    """Opening a sync and its digest are the scheduler's work, whoever set them off: logged as such."""
    return JobContext(ctx.store, ctx.now, ctx.settings)


async def _now(ctx: Context, rest: str) -> Reply:
    if rest:
        p = await find_partnership(ctx, rest.split()[0])
        if not await policy.manages(ctx, p):
            raise UserError(f"Only the two managers of {p.ref} hold its peer sync.")
    else:
        managed = await ctx.store.managed_partnerships(ctx.caller.id)
        if not managed:
            raise UserError("You are not a manager of any partnership; peer syncs are between managers.")
        if len(managed) > 1:
            choices = ", ".join(m.ref for m in managed)
            raise UserError(f"You manage several partnerships ({choices}); say which: `sync now P-1`.")
        p = managed[0]
    policy.require_accepted(p, "hold its peer sync")
    cad = _scheduled(ctx)
    s = await open_week_sync(cad, p, week_of(ctx.now, ctx.tz), ctx.caller)
    if s.digest_at:
        raise UserError(f"This week's peer sync {s.ref} of {p.ref} is closed: its digest went out "
                        f"{format_instant(s.digest_at, ctx.tz)}. The next one opens with next week's prompt.")
    await prompt(cad, s, p, ctx.caller, send=False)  # the caller has the form: no prompt for them this week
    waiting = ""
    for a in await ctx.store.sync_answers(s.id):
        if a.person_id != ctx.caller.id:
            peer = await ctx.store.get_person(a.person_id)
            await prompt(cad, s, p, peer)
            if not await reachable(ctx.store, peer, s.workspace_id):
                waiting = f" {peer.display_name} has not talked to Partnerbot yet: their prompt waits until they do."
    mine = await ctx.store.sync_answer(s.id, ctx.caller.id)
    opened = _open_form(ctx, s, p, mine, edit=False)
    return replace(opened, text=opened.text + waiting)


async def _own_part(ctx: Context, token: str) -> tuple[PeerSync, Partnership, SyncAnswer]:
    number = parse_ref(token, "S")
    if number is None:
        raise UserError(f"'{token}' is not a peer-sync reference like S-1.")
    s = await ctx.store.peer_sync_for(ctx.workspace.id, number, ctx.caller.id)
    if s is None:
        raise UserError(f"There is no peer sync S-{number} here.")
    mine = await ctx.store.sync_answer(s.id, ctx.caller.id)
    p = await ctx.store.get(Partnership, s.partnership_id)
    if mine is None:
        raise UserError(f"Only the two managers of {p.ref} answer {s.ref}.")
    if s.digest_at:
        raise UserError(f"The digest of {s.ref} went out {format_instant(s.digest_at, ctx.tz)}; "
                        f"its answers are closed.")
    return s, p, mine


def _open_form(ctx: Context, s: PeerSync, p: Partnership, mine: SyncAnswer, edit: bool) -> Reply:
    if mine.answered_at and not edit:
        raise UserError(f"You already answered {s.ref}; your answer stands. "
                        f"To change it before the digest goes out: `sync edit {s.ref}`.")
    form = answer_form(s, p, mine, edit=edit and mine.answered_at is not None)
    return Reply(f"Opening the {s.ref} form ({p.ref} {p.name}).", form=form)


async def _submit(ctx: Context, s: PeerSync, p: Partnership, mine: SyncAnswer, edit: bool) -> Reply:
    values = ctx.command.form_values
    if values is None:
        raise UserError(f"Answer {s.ref} with its form: click Answer or type `sync answer {s.ref}`.")
    if mine.answered_at and not edit:
        raise UserError(f"You already answered {s.ref}, so this second submit was not saved; your first "
                        f"answer stands. To change it before the digest: `sync edit {s.ref}`.")
    if not any((v or "").strip() for v in values.values()):
        raise UserError(f"All six answers are empty; answer at least one question of {s.ref}.")
    pledges = await save_answer(ctx, s, p, mine, dict(values))
    answers = await ctx.store.sync_answers(s.id)
    waiting = [a for a in answers if not a.answered_at]
    saved = "updated" if mine.edited_at == ctx.now else "saved"
    text = f"Your {s.ref} answer is {saved}."
    if pledges:
        due = format_instant(s.pledges_due_at, ctx.tz)
        text += f" New commitments: {', '.join(c.ref for c in pledges)} (due {due})."
    if waiting:
        names = [(await ctx.store.get_person(a.person_id)).display_name for a in waiting]
        text += (f" Waiting for {' and '.join(names)}; the digest goes out when they answer or at "
                 f"{format_instant(s.deadline_at, ctx.tz)}.")
    elif await send_digest(_scheduled(ctx), s, p):
        text += " Both managers have answered: the side-by-side digest is on its way."
    return Reply(text, cards=(Card(title=f"{s.ref} answered", text=text,
                                   buttons=(Button("Edit answer", f"sync edit {s.ref}"),)),),
                 replace_source=ctx.command.from_button)


VERBS = [
    Verb("sync", ("sync now [P-n]", "sync answer S-n", "sync edit S-n", "sync calendar P-n [revoke]"),
         "the weekly peer sync between a partnership's two managers; `sync calendar` puts your prompt in your "
         "calendar (a private link)", (
             "sync now", "sync now P-2", "sync edit S-4", "sync calendar P-1",
         ), sync),
]
