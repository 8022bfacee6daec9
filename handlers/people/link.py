"""link: one person on two platforms. `link` on one answers a code; `link <code>` on the other
asks the code's issuer to confirm; their `link confirm` joins them. `unlink` splits them again."""
from __future__ import annotations

import secrets
from datetime import timedelta

from handlers.kernel.context import Context
from handlers.kernel.dates import format_instant
from handlers.kernel.errors import UserError
from handlers.kernel.model import Reply
from handlers.kernel.outbound import to_person
from handlers.kernel.registry import Verb
from handlers.people.link_messages import (
    AFTER_THE_LINK,
    asked_to_confirm,
    confirmed_to_requester,
    linked,
    platform_names,
    rejected_to_requester,
    unlinked,
    where,
)
from storage.models import LinkRequest, Person

CODE_LIFETIME = timedelta(minutes=10)  # of a code, and of the request made with it, from when it was typed
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read and retyped
WRONG_CODES_PER_WINDOW = 5  # per person; the next attempt in the window is refused unread
WRONG_CODE_WINDOW = timedelta(hours=1)


async def link(ctx: Context, args: str) -> Reply:
    word, _, rest = args.strip().partition(" ")
    if word.lower() in ("confirm", "reject"):
        return await _answer(ctx, word.lower(), rest.strip())
    if rest.strip():
        raise UserError("A link code is one word, like K7Q2XPMA.")
    if not word:
        return await _issue(ctx)
    return await _request(ctx, word.upper())


async def _issue(ctx: Context) -> Reply:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    await ctx.store.issue_link_code(code, ctx.caller.id, ctx.now + CODE_LIFETIME)
    await ctx.log("person.link_code", f"person:{ctx.caller.id}", after={"platform": ctx.platform})
    return Reply(f"Your link code is {code} (valid 10 minutes). On your other platform "
                 f"(Slack or Teams), send `link {code}` to Partnerbot; you will be asked here to confirm.")


async def _request(ctx: Context, code: str) -> Reply:
    """The code typed on another platform: its issuer is asked to confirm (nothing joins yet)."""
    wrong = await ctx.store.wrong_link_codes_since(ctx.caller.id, ctx.now - WRONG_CODE_WINDOW)
    if len(wrong) >= WRONG_CODES_PER_WINDOW:  # refused before the code is even looked up
        again = wrong[-WRONG_CODES_PER_WINDOW] + WRONG_CODE_WINDOW
        raise UserError(f"Too many wrong link codes: {len(wrong)} in the last hour, so this one was not checked. "
                        f"Try again after {format_instant(again, ctx.tz)}, or send `link` on your other "
                        f"platform for a new code.")
    issued = await ctx.store.link_code(code)
    if issued is not None and issued.person_id == ctx.caller.id:
        raise UserError("That code is yours, from this same account; use it on your other platform.")
    issuer = await ctx.store.get_person(issued.person_id) if issued is not None else None
    if issued is None or issued.expires_at <= ctx.now:
        why = f"'{code}' is not a valid link code (codes work once, for 10 minutes). Send `link` for a new one."
    else:
        why = await _not_apart(ctx, issuer, ctx.caller, ctx.platform)
    if why:
        # Counted against the next attempts (a valid code typed where it cannot join is one too,
        # or codes could be probed from the issuer's own platform). So this answer changes one
        # thing, the count, and is not a refusal that changes nothing (Reply.ok stays True): the
        # refusal is the attempt after the fifth, which is not even looked up.
        await ctx.store.note_wrong_link_code(ctx.caller.id, ctx.now)
        wrong.append(ctx.now)
        left = WRONG_CODES_PER_WINDOW - len(wrong)
        then = (f"{left} more wrong code{'s' if left != 1 else ''} this hour and `link <code>` waits." if left else
                f"That was the {WRONG_CODES_PER_WINDOW}th wrong code this hour: `link <code>` waits until "
                f"{format_instant(wrong[-WRONG_CODES_PER_WINDOW] + WRONG_CODE_WINDOW, ctx.tz)}.")
        return Reply(f"{why} Nothing was joined. {then}")
    if not await ctx.store.take_link_code(code):  # a code works once
        raise UserError(f"'{code}' was used a moment ago; send `link` for a new one.")
    request = await ctx.store.add_link_request(LinkRequest(
        issuer_id=issuer.id, requester_id=ctx.caller.id, workspace_id=ctx.workspace.id, platform=ctx.platform,
        # the issuer gets a lifetime of their own to answer, however late the code was typed
        created_at=ctx.now, expires_at=ctx.now + CODE_LIFETIME))
    await ctx.log("person.link_requested", f"person:{issuer.id}",
                  after={"request": request.id, "requester_id": ctx.caller.id, "platform": ctx.platform})
    await ctx.notify(issuer, "link.request", f"link:{request.id}",
                     asked_to_confirm(request, ctx.caller, where(ctx.platform, ctx.workspace), ctx.timezone_of(issuer)))
    theirs = platform_names(await ctx.store.platforms_of(issuer.id))
    return Reply(f"I've asked {issuer.display_name} on {theirs} to confirm that this is you; nothing is joined "
                 f"until they do, and you will be told here. The request lapses at "
                 f"{format_instant(request.expires_at, ctx.tz)}.")


async def _not_apart(ctx: Context, issuer: Person, requester: Person, platform: str) -> str | None:
    """Why the two cannot be joined, if they cannot: one person has one identity per platform."""
    if issuer.id == requester.id:
        return "Those two identities are one person already."
    if platform in (issuer_platforms := await ctx.store.platforms_of(issuer.id)):
        return f"That code was made on {platform} too; use it on your other platform."
    both = set(issuer_platforms) & set(await ctx.store.platforms_of(requester.id))
    if both:
        return (f"Both identities are on {', '.join(sorted(both))} already: one person has one identity per "
                f"platform. `unlink` one of them first.")
    return None


async def _answer(ctx: Context, answer: str, token: str) -> Reply:
    """`link confirm [n]` / `link reject [n]`: only the code's issuer answers a request."""
    request = await _request_to_answer(ctx, answer, token)
    requester = await ctx.store.get_person(request.requester_id)
    issuer = ctx.caller
    if not await ctx.store.take_link_request(request):
        raise UserError(f"Link request {request.id} was answered a moment ago.")
    said = {"request": request.id, "requester_id": requester.id, "platform": request.platform}
    if answer == "reject":
        await ctx.log("person.link_rejected", f"person:{issuer.id}", after=said)
        await to_person(ctx.store, workspace_id=request.workspace_id, person=requester, kind="link.rejected",
                        record=f"link:{request.id}", period="-", reply=rejected_to_requester(issuer.display_name),
                        now=ctx.now, prefer_platform=request.platform)
        return Reply(f"Rejected: nothing was joined, and {requester.display_name} on {where(request.platform)} "
                     f"has been told.", replace_source=ctx.command.from_button)
    if why := await _not_apart(ctx, issuer, requester, request.platform):
        raise UserError(why)
    person_link = await ctx.store.merge_person(requester, issuer, ctx.now)
    await ctx.log("person.linked", f"person:{issuer.id}", before={"person_id": requester.id},
                  after={"person_id": issuer.id, "link": person_link.id, "platform": request.platform})
    platforms = await ctx.store.platforms_of(issuer.id)
    await to_person(ctx.store, workspace_id=request.workspace_id, person=issuer, kind="link.confirmed",
                    record=f"link:{request.id}", period="-",
                    reply=confirmed_to_requester(issuer.display_name, issuer, platforms),
                    now=ctx.now, prefer_platform=request.platform)
    return Reply(linked(issuer, platforms), replace_source=ctx.command.from_button)


async def _request_to_answer(ctx: Context, answer: str, token: str) -> LinkRequest:
    if not token:
        waiting = await ctx.store.link_requests_to(ctx.caller.id, ctx.now)
        if not waiting:
            raise UserError("No link request is waiting for your answer.")
        if len(waiting) > 1:
            numbers = ", ".join(str(r.id) for r in waiting)
            raise UserError(f"{len(waiting)} link requests wait for your answer ({numbers}): name one, "
                            f"e.g. `link {answer} {waiting[0].id}`.")
        return waiting[0]
    if not (token.isascii() and token.isdigit()):
        raise UserError(f"'{token}' is not a link request number; the request you were sent names it.")
    request = await ctx.store.link_request(int(token)) if len(token) <= 9 else None  # a database INTEGER
    if request is not None and request.requester_id == ctx.caller.id:
        raise UserError(f"Link request {token} is yours: only whoever issued the code can {answer} it, on "
                        f"their platform. You will be told.")
    if request is None or request.issuer_id != ctx.caller.id:
        raise UserError(f"There is no link request {token} waiting for your answer.")
    if request.expires_at <= ctx.now:
        raise UserError(f"Link request {token} has lapsed (a request lasts 10 minutes from when the code was typed); "
                        f"nothing was joined. A new `link` code starts again.")
    return request


async def unlink(ctx: Context, args: str) -> Reply:
    if args.strip():
        raise UserError("`unlink` takes nothing after it: it splits your latest link.")
    person_link = await ctx.store.last_person_link(ctx.caller.id)
    if person_link is None:
        raise UserError("You are not linked to another identity (or were linked before links could be "
                        "undone): there is nothing to split.")
    keeper = ctx.caller
    split_off, split_platforms = await ctx.store.unlink_person(person_link, keeper)
    kept_platforms = await ctx.store.platforms_of(keeper.id)
    you, other = (split_off, keeper) if ctx.platform in split_platforms else (keeper, split_off)
    await ctx.store.log(workspace_id=ctx.workspace.id, at=ctx.now, person_id=you.id, platform=ctx.platform,
                        action="person.unlinked", record=f"person:{keeper.id}", before={"person_id": keeper.id},
                        after={"person_id": split_off.id, "link": person_link.id, "platforms": split_platforms})
    your_platforms, their_platforms = (split_platforms, kept_platforms) if you is split_off else \
        (kept_platforms, split_platforms)
    await to_person(ctx.store, workspace_id=other.workspace_id, person=other, kind="link.unlinked",
                    record=f"person-link:{person_link.id}", period="-",
                    reply=Reply(unlinked(other, their_platforms, you, your_platforms)), now=ctx.now,
                    prefer_platform=their_platforms[0] if their_platforms else None)
    return Reply(unlinked(you, your_platforms, other, their_platforms))


VERBS = [
    Verb("link", ("link", "link <code>", "link confirm [n]", "link reject [n]"),
         "join your Slack and Teams identities into one person: `link` on one answers a code, `link <code>` "
         "on the other asks the code's issuer to confirm (at most 5 wrong codes an hour)",
         ("link", "link K7Q2XPMA", "link confirm 3", "link reject 3"), link),
    Verb("unlink", ("unlink",),
         f"split your latest link: each platform's identity and records go back to it; {AFTER_THE_LINK}",
         ("unlink",), unlink),
]

