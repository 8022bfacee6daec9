"""meeting, action: community-of-practice series whose meetings end in action items.

`meeting new` creates a weekly series in a channel bound to the partnership; each start
is an occurrence M-n (service.py, jobs.py). Action items are commitments of the meeting,
added by text (`action`) or with the action-item form; `meeting close` is refused until
there is at least one.
"""
from __future__ import annotations

import re
from dataclasses import replace

from handlers.kernel.context import Context
from handlers.kernel.dates import WEEKDAYS, format_instant, parse_date
from handlers.kernel.errors import FieldErrors, UserError
from handlers.kernel.grammar import MENTION, parse_ref, split_by_date
from handlers.kernel.model import Card, Fact, Mention, Reply
from handlers.kernel.registry import Verb
from handlers.kernel.rules import fire_at_or_after
from handlers.meetings.messages import FORM_ROWS, action_form, capture_button, summary, when_text
from handlers.meetings.service import (
    add_action_item,
    calendar_link,
    find_meeting,
    post_to_partnership,
    revoke_calendar_links,
)
from handlers.partnerships import policy
from handlers.partnerships.service import find_partnership
from storage.models import Meeting, MeetingSeries, Partnership, Person

_NEW = re.compile(r"^new\s+(?P<p>\S+)\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_PURPOSE = re.compile(r'^(?:"(?P<a>[^"]*)"|“(?P<b>[^”]*)”)\s*(?P<rest>.*)$', re.DOTALL)
_SLOT = re.compile(r"^every\s+(?P<day>[a-z]+)\s+(?P<time>\d{1,2}:\d{2})(?:\s+for\s+(?P<minutes>\d{1,3})\s*"
                   r"(?:m|min|mins|minutes)?)?$", re.IGNORECASE)
USAGE_NEW = 'meeting new P-1 "Brainstorm new business at Acme" every tue 15:00 for 45m'


async def meeting(ctx: Context, args: str) -> Reply:
    action, _, rest = args.strip().partition(" ")
    action, rest = action.lower(), rest.strip()
    if action == "new":
        return await _new(ctx, args.strip())
    if parse_ref(action, "M") is not None:  # `meeting M-3`: show it
        return await _show(ctx, await find_meeting(ctx, action))
    if action == "list":
        return await _list(ctx, rest)
    if action == "stop" and parse_ref(rest.split(" ", 1)[0], "P") is not None:  # a series, before or after it met
        return await _stop_series(ctx, rest)
    if action == "calendar":
        return await _calendar(ctx, rest)
    handlers = {"close": _close, "actions": _open_form, "submit": _submit, "stop": _stop}
    if action not in handlers:
        raise UserError("Say `meeting new …`, `meeting list [P-n]`, `meeting actions M-n`, `meeting close M-n`, "
                        "`meeting stop M-n|P-n [n]` or `meeting calendar M-n|P-n [n]`.")
    token = rest.split(" ", 1)[0]
    if not token:
        raise UserError(f"Say which meeting: `meeting {action} M-1`.")
    return await handlers[action](ctx, await find_meeting(ctx, token))


# --- a new series ----------------------------------------------------------------------------
def _slot(text: str) -> tuple[str, str, int | None]:
    """'every tue 15:00 for 45m' → ('tue', '15:00', 45)."""
    m = _SLOT.match(text.strip())
    if not m:
        raise UserError(f"Say when it meets: `every <weekday> <HH:MM> [for <minutes>m]`, e.g. `{USAGE_NEW}`.")
    day = m.group("day").lower()
    if day not in WEEKDAYS:
        raise UserError(f"'{m.group('day')}' is not a weekday; use mon, tue, wed, thu, fri, sat or sun.")
    hour, minute = (int(part) for part in m.group("time").split(":"))
    if hour > 23 or minute > 59:
        raise UserError(f"{m.group('time')} is not a time of day; use 24-hour HH:MM, e.g. 15:00.")
    minutes = int(m.group("minutes")) if m.group("minutes") else None
    if minutes is not None and not 5 <= minutes <= 480:
        raise UserError("A meeting lasts from 5 to 480 minutes: `for 45m`.")
    weekday = next(short for short, number in WEEKDAYS.items() if number == WEEKDAYS[day] and len(short) == 3)
    return weekday, f"{hour:02d}:{minute:02d}", minutes


def parse_new(args: str) -> tuple[str, str, tuple[str, str, int | None]]:
    """'new P-1 "<purpose>" every tue 15:00 for 45m' → ('P-1', purpose, ('tue', '15:00', 45)).
    Each of its regexes is anchored and tried once: linear in the text."""
    m = _NEW.match(args)
    if not m or parse_ref(m.group("p"), "P") is None:
        raise UserError(f"Name the partnership first: `{USAGE_NEW}`.")
    purpose_match = _PURPOSE.match(m.group("rest"))
    purpose = " ".join((purpose_match.group("a") or purpose_match.group("b") or "").split()) if purpose_match else ""
    if not purpose:
        raise UserError(f'A meeting needs a purpose, in quotes, so everyone knows why they meet: `{USAGE_NEW}`.')
    return m.group("p"), purpose, _slot(purpose_match.group("rest"))


async def _new(ctx: Context, args: str) -> Reply:
    token, purpose, (weekday, hhmm, minutes) = parse_new(args)
    p = await find_partnership(ctx, token)
    await policy.require_member(ctx, p)
    policy.require_accepted(p, "hold its meetings")
    channel = ctx.channel
    if not channel:
        raise UserError(f"Run `meeting new` in a channel bound to {p.ref}: its meetings are posted there.")
    if p.id not in await ctx.store.partnerships_bound_to(ctx.workspace.id, channel):
        raise UserError(f"This channel is not bound to {p.ref}. Bind it first with "
                        f"`partnership {p.ref} channel`, or run `meeting new` in its channel.")
    minutes = minutes or ctx.settings.cadence.meetings.default_minutes
    series = MeetingSeries(workspace_id=p.workspace_id, partnership_id=p.id, organiser_id=ctx.caller.id,
                           purpose=purpose, weekday=weekday, time=hhmm, minutes=minutes, timezone=ctx.tz,
                           next_start_at=fire_at_or_after(weekday, hhmm, ctx.tz, ctx.now), created_at=ctx.now)
    await ctx.store.add(series)
    ref = p.ref
    await ctx.log("meeting.series_created", ref, after={"purpose": purpose, "weekday": weekday, "time": hhmm,
                                                         "minutes": minutes, "timezone": ctx.tz},
                  workspace_id=p.workspace_id)
    first = format_instant(series.next_start_at, ctx.tz)
    text = (f"Community of practice for {ref} {p.name}: \"{purpose}\", every {weekday} {hhmm} for {minutes} min "
            f"({ctx.tz}), organised by you. First meeting {first}: I'll post its purpose, open action items "
            f"and leads in the partnership's channels, and ask you for action items when it ends.")
    return Reply(text, cards=(Card(title=f"{purpose} · {ref}", text=text,
                                   facts=(Fact("When", f"every {weekday} {hhmm}, {minutes} min ({ctx.tz})"),
                                          Fact("First", first), Fact("Organiser", ctx.caller.display_name))),))


# --- what a meeting may still take -------------------------------------------------------------
def _require_open(m: Meeting, doing: str) -> None:
    if m.closed_at:
        raise UserError(f"{m.ref} is closed already; {doing} belongs to an open meeting.")


# --- action items --------------------------------------------------------------------------
async def action(ctx: Context, args: str) -> Reply:
    token, _, rest = args.strip().partition(" ")
    if not token:
        raise UserError("Say which meeting: `action M-1 @owner <what> by <date>`.")
    m = await find_meeting(ctx, token)
    _require_open(m, "an action item")
    if MENTION.match(rest.strip()) is None:
        raise UserError(f"An action item needs an owner: mention them with @ — "
                        f"`action {m.ref} @owner <what> by <date>`.")
    owner, rest = await ctx.take_person(rest, "the owner")
    what, date_phrase = split_by_date(rest, ctx.today)
    if date_phrase is None:
        raise UserError("An action item needs a due date: end it with `by <date>`, e.g. `by fri`.")
    if not what:
        raise UserError("Say what is to be done before `by`.")
    c = await add_action_item(ctx, m, owner, what, date_phrase)
    due = format_instant(c.due_at, ctx.timezone_of(owner))
    told = " They've been told." if owner.id != ctx.caller.id else ""
    return Reply(f"{c.ref} saved as an action item of {m.ref} for {owner.display_name}: {what} — due {due}.{told}")


async def _open_form(ctx: Context, m: Meeting) -> Reply:
    _require_open(m, "capturing action items")
    return Reply(f"Opening the action-item form of {m.ref} ({m.purpose}).", form=action_form(m))


async def _submit(ctx: Context, m: Meeting) -> Reply:
    values = ctx.command.form_values
    if values is None:
        raise UserError(f"Add action items with the form (`meeting actions {m.ref}`) or "
                        f"`action {m.ref} @owner <what> by <date>`.")
    _require_open(m, "an action item")
    rows, errors, owners = [], {}, {}
    for row in range(1, FORM_ROWS + 1):
        owner, what, due = ((values.get(f"{field}_{row}") or "").strip() for field in ("owner", "what", "due"))
        if owner or what or due:
            person = await _check_row(ctx, m, row, owner, what, due, errors)
            if person:
                owners[f"owner_{row}"] = f"<@{MENTION.fullmatch(owner).group(1)}|{_mention_name(person)}>"
            if person and not {f"what_{row}", f"due_{row}"} & errors.keys():
                rows.append((person, what, due))
    if not rows and not errors:
        errors["owner_1"] = "Every row is empty: give at least one action item an owner, what and a due date."
    if errors:  # nothing is saved until every row is right, so a resubmit cannot add a row twice
        raise FieldErrors(action_form(m), errors, answers=owners)
    saved = [await add_action_item(ctx, m, owner, what, due) for owner, what, due in rows]
    people = await ctx.store.people({c.owner_id for c in saved})
    lines = [f"{c.ref} · {people[c.owner_id].display_name}: {c.what}, due "
             f"{format_instant(c.due_at, ctx.timezone_of(people[c.owner_id]))}" for c in saved]
    text = f"{len(saved)} action item(s) saved for {m.ref}:\n" + "\n".join(lines)
    return Reply(text + f"\nClose the meeting when you're done: `meeting close {m.ref}`.",
                 replace_source=ctx.command.from_button)


async def _check_row(ctx: Context, m: Meeting, row: int, owner: str, what: str, due: str,
                     errors: dict[str, str]) -> Person | None:
    """One filled row of the action-item form, checked field by field: what is wrong goes in
    `errors` under each field (owner_n, what_n, due_n); its owner when they may own it."""
    person = None
    if not owner:
        errors[f"owner_{row}"] = "Pick who owns this action item."
    elif (mention := MENTION.fullmatch(owner)) is None:
        errors[f"owner_{row}"] = f"Pick the owner as a person (a mention), not '{owner[:40]}'."
    else:
        person = await ctx.mentioned_person(mention.group(1), mention.group(2))
        if person.id != ctx.caller.id and not await policy.runs_meeting(ctx, m):
            errors[f"owner_{row}"] = (f"Only the organiser of {m.ref} or a manager of its partnership gives "
                                      f"action items to others; you can take one yourself.")
    if not what:
        errors[f"what_{row}"] = "Say what is to be done."
    if not due:
        errors[f"due_{row}"] = "Give a due date."
    else:
        try:
            parse_date(due, ctx.today)
        except UserError as refusal:
            errors[f"due_{row}"] = str(refusal)
    return person if f"owner_{row}" not in errors else None


def _mention_name(person: Person) -> str:
    """The name in a mention token `<@id|name>`, which ends at `|` or `>`."""
    return person.display_name.replace("|", " ").replace(">", " ")


# --- close and show ------------------------------------------------------------------------
async def _close(ctx: Context, m: Meeting) -> Reply:
    if m.closed_at:
        raise UserError(f"{m.ref} was closed {format_instant(m.closed_at, ctx.tz)}.")
    if not await policy.runs_meeting(ctx, m):
        organiser = await ctx.store.get_person(m.organiser_id)
        raise UserError(f"Only {organiser.display_name}, who organises {m.ref}, or a manager of its "
                        f"partnership can close it.")
    actions = [c for c in await ctx.store.action_items(m.id) if c.status != "dropped"]
    if not actions:
        raise UserError(f"{m.ref} can't be closed yet: it has no action item with an owner and a due date. "
                        f"Add one with `action {m.ref} @owner <what> by <date>` (or `meeting actions {m.ref}`).")
    m.closed_at, m.closed_by_id, m.cadence_at, m.cadence_step = ctx.now, ctx.caller.id, None, None
    await ctx.log("meeting.closed", m.ref, after={"action_items": [c.ref for c in actions]},
                  workspace_id=m.workspace_id)
    p = await ctx.store.get(Partnership, m.partnership_id)
    leads = await ctx.store.leads_of_meeting(m.id)
    people = await ctx.store.people({who for r in (*actions, *leads) for who in (r.owner_id, r.created_by_id)})
    posted = summary(m, p, actions, leads, people, ctx.timezone_of)
    owners = {c.owner_id: people[c.owner_id] for c in actions}  # told in the channel what they now owe
    posted = replace(posted, mentions=tuple(Mention(person.display_name, person.id) for person in owners.values()))
    organiser = await ctx.store.get_person(m.organiser_id)
    await post_to_partnership(ctx, p, organiser, "meeting.summary", m.ref, posted)
    return Reply(f"{m.ref} closed; its summary is posted to {p.ref}'s channels.\n{posted.text}",
                 cards=posted.cards, cards_in_text=posted.cards_in_text, replace_source=ctx.command.from_button)


async def _stop(ctx: Context, m: Meeting) -> Reply:
    """No more meetings of M-n's series; the ones held stay (and still need closing)."""
    series = await ctx.store.get(MeetingSeries, m.series_id)
    if series.stopped_at:
        raise UserError(f"The series of {m.ref} ({m.purpose}) was stopped {format_instant(series.stopped_at, ctx.tz)}.")
    if not await policy.runs_meeting(ctx, m):
        raise UserError(f"Only the organiser of {m.ref} or a manager of its partnership can stop its series.")
    series.stopped_at = ctx.now
    await ctx.log("meeting.series_stopped", m.ref, after={"purpose": series.purpose}, workspace_id=m.workspace_id)
    still_open = "" if m.closed_at else f" {m.ref} itself is still open: close it with `meeting close {m.ref}`."
    return Reply(f"The series of {m.ref} ({m.purpose}) is stopped: no more meetings will be posted.{still_open}")


# --- series: list them, stop one before (or after) it met ---------------------------------------
async def _list(ctx: Context, rest: str) -> Reply:
    """`meeting list [P-n]`: the running series of a partnership (else of every one the caller
    is a member of), each with its next meeting and the M-n that meeting will take."""
    if rest:
        if parse_ref(rest, "P") is None:
            raise UserError(f"Say which partnership: `meeting list P-1`, not '{rest}'.")
        p = await find_partnership(ctx, rest)
        await policy.require_member(ctx, p)
        partnerships = [p]
    else:
        partnerships = await ctx.store.member_partnerships(ctx.caller.id)
    lines, upcoming = [], {}
    for p in partnerships:
        for n, series in enumerate(await ctx.store.series_of_partnership(p.id), start=1):
            if series.stopped_at:
                continue
            if p.workspace_id not in upcoming:
                upcoming[p.workspace_id] = await ctx.store.upcoming_meeting_numbers(p.workspace_id)
            organiser = await ctx.store.get_person(series.organiser_id)
            lines.append(f"{p.ref} series {n} · {series.purpose} · every {series.weekday} {series.time} for "
                         f"{series.minutes} min ({series.timezone}) · organiser {organiser.display_name} · next "
                         f"{format_instant(series.next_start_at, ctx.tz)} as M-{upcoming[p.workspace_id][series.id]}")
    whose = f"{partnerships[0].ref} {partnerships[0].name}" if rest else "your partnerships"
    if not lines:
        return Reply(f"Meeting series of {whose}: none running. Start one with `{USAGE_NEW}`.")
    return Reply(f"Meeting series of {whose}:\n" + "\n".join(lines)
                 + "\nStop one with `meeting stop P-n [series]` (before its first meeting too).")


async def _numbered_series(ctx: Context, p: Partnership, which: str, verb: str) -> tuple[int, MeetingSeries]:
    """Series `which` of `meeting list P-n` (the only one running, when `which` is empty)."""
    numbered = list(enumerate(await ctx.store.series_of_partnership(p.id), start=1))
    running = [(n, s) for n, s in numbered if s.stopped_at is None]
    if which:
        if not which.isdigit() or not 1 <= int(which) <= len(numbered):
            raise UserError(f"{p.ref} has no meeting series '{which}'; `meeting list {p.ref}` numbers them.")
        return numbered[int(which) - 1]
    if len(running) == 1:
        return running[0]
    if not running:
        raise UserError(f"{p.ref} has no meeting series running.")
    raise UserError(f"{p.ref} runs {len(running)} meeting series: say which, e.g. `meeting {verb} {p.ref} "
                    f"{running[0][0]}` (`meeting list {p.ref}` numbers them).")


async def _stop_series(ctx: Context, rest: str) -> Reply:
    """`meeting stop P-n [n]`: series n of `meeting list P-n` (the only one running, when n is left out)."""
    token, _, which = rest.partition(" ")
    p = await find_partnership(ctx, token)
    n, series = await _numbered_series(ctx, p, which.strip(), "stop")
    if series.stopped_at:
        raise UserError(f"Series {n} of {p.ref} ({series.purpose}) was stopped "
                        f"{format_instant(series.stopped_at, ctx.tz)}.")
    if not await policy.runs_meeting(ctx, series):
        raise UserError(f"Only the organiser of series {n} of {p.ref} or a manager of {p.ref} can stop it.")
    series.stopped_at = ctx.now
    await ctx.log("meeting.series_stopped", p.ref, after={"purpose": series.purpose, "series": n},
                  workspace_id=p.workspace_id)
    return Reply(f"Series {n} of {p.ref} ({series.purpose}) is stopped: no more meetings will be posted.")


async def _calendar(ctx: Context, rest: str) -> Reply:
    """`meeting calendar M-n|P-n [series] [revoke]`: a private calendar link to the series (members)."""
    words = rest.split()
    revoke = bool(words) and words[-1].lower() == "revoke"
    words = words[:-1] if revoke else words
    if not words:
        raise UserError("Say which meeting series: `meeting calendar M-3`, or `meeting calendar P-1 [series]` "
                        "before its first meeting.")
    token, extra = words[0], " ".join(words[1:])
    if parse_ref(token, "M") is not None:
        if extra:
            raise UserError(f"I don't understand '{extra}' after {token.upper()}: say `meeting calendar "
                            f"{token.upper()}` or `meeting calendar {token.upper()} revoke`.")
        m = await find_meeting(ctx, token)
        p, series = await ctx.store.get(Partnership, m.partnership_id), await ctx.store.get(MeetingSeries, m.series_id)
        await policy.require_member(ctx, p)
        what, again = f"the series of {m.ref} ({series.purpose})", f"meeting calendar {m.ref}"
    elif parse_ref(token, "P") is not None:
        p = await find_partnership(ctx, token)
        await policy.require_member(ctx, p)
        n, series = await _numbered_series(ctx, p, extra, "calendar")
        what, again = f"series {n} of {p.ref} ({series.purpose})", f"meeting calendar {p.ref} {n}"
    else:
        raise UserError(f"Say which meeting series: `meeting calendar M-3` or `meeting calendar P-1`, not '{token}'.")
    if revoke:
        return await revoke_calendar_links(ctx, p, series, what)
    return await calendar_link(ctx, p, series, what, f"{again} revoke")


async def _show(ctx: Context, m: Meeting) -> Reply:
    actions = await ctx.store.action_items(m.id)
    leads = await ctx.store.leads_of_meeting(m.id)
    state = f"closed {format_instant(m.closed_at, ctx.tz)}" if m.closed_at else "open"
    text = (f"{m.ref} · {m.purpose} · {when_text(m, ctx.tz)} · {state} · "
            f"{len(actions)} action item(s), {len(leads)} lead(s).")
    buttons = () if m.closed_at else (capture_button(m),)
    return Reply(text, cards=(Card(title=f"{m.ref} · {m.purpose}", text=text, buttons=buttons),))


VERBS = [
    Verb("meeting", (
        'meeting new P-n "<purpose>" every <weekday> <HH:MM> [for <minutes>m]',
        "meeting actions M-n",
        "meeting close M-n",
        "meeting stop M-n",
        "meeting list [P-n]",
        "meeting stop P-n [series]",
        "meeting calendar M-n|P-n [series] [revoke]",
    ), "a community of practice that meets weekly and ends every meeting in action items; "
       "`meeting calendar` puts a series in your calendar (a private link)", (
        USAGE_NEW, "meeting actions M-3", "meeting close M-3", "meeting stop M-3", "meeting list P-1",
        "meeting stop P-1 2", "meeting calendar M-3", "meeting calendar M-3 revoke",
    ), meeting),
    Verb("action", ("action M-n @owner <what> by <date>",), "record an action item of a meeting (a commitment)",
         ("action M-3 @maria send the joint case study by fri",), action),
]
