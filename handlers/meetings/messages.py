"""What a community-of-practice meeting says: its start post, the end prompt and nudges to the
organiser, the action-item form and the summary posted when it closes."""
from __future__ import annotations

from collections.abc import Callable

from handlers.kernel.dates import format_instant
from handlers.kernel.model import Button, Card, Fact, Form, Question, Reply
from storage.models import Commitment, Lead, Meeting, Partnership, Person

FORM_ROWS = 3  # rows of the action-item form; more by opening it again or with `action`


def capture_button(m: Meeting) -> Button:
    return Button("Capture action items", f"meeting actions {m.ref}", "primary")


def when_text(m: Meeting, tz: str) -> str:
    return f"{format_instant(m.starts_at, tz)}, {int((m.ends_at - m.starts_at).total_seconds() // 60)} min"


def start_post(m: Meeting, p: Partnership, tz: str, action_facts: tuple[Fact, ...], lead_lines: list[str]) -> Reply:
    """Its purpose, the series' open action items and open leads, and the capture button."""
    intro = (f"Community of practice of {p.ref} {p.name}, {when_text(m, tz)}. Purpose: {m.purpose}. "
             f"Log ideas as leads with `idea <account>: <idea>`; capture action items before it ends.")
    return Reply.of_cards(
        Card(title=f"{m.ref} starts now · {m.purpose}", text=intro, buttons=(capture_button(m),)),
        Card(title="Open action items", text="" if action_facts else "None open.", facts=action_facts),
        Card(title="Open leads", text="\n".join(lead_lines) or "None open."),
        sections=True,
    )


def follow_up_message(m: Meeting, step: str, actions: list[Commitment]) -> Reply:
    """To the organiser: at the end ("end"), then until it is closed ("nudge")."""
    ref = m.ref
    buttons = (capture_button(m), Button("Close meeting", f"meeting close {ref}"))
    if actions:
        text = (f"{ref} ({m.purpose}) has {len(actions)} action item(s) but is still open. Close it to post "
                f"the summary: `meeting close {ref}`.")
    elif step == "end":
        text = (f"{ref} ({m.purpose}) has ended. Capture its action items — owner, what, by when — "
                f"then close it: `action {ref} @owner <what> by <date>`, then `meeting close {ref}`.")
    else:
        text = (f"Reminder: {ref} ({m.purpose}) still has no action item with an owner and a due date, "
                f"so it cannot be closed. A meeting without action items is only talk: add one with "
                f"`action {ref} @owner <what> by <date>`.")
    return Reply(text, cards=(Card(title=f"{ref} · {m.purpose}", text=text, buttons=buttons),))


def action_form(m: Meeting) -> Form:
    questions: list[Question] = []
    for row in range(1, FORM_ROWS + 1):
        questions += [Question(f"owner_{row}", f"{row}. Owner", multiline=False, kind="person"),
                      Question(f"what_{row}", f"{row}. What", multiline=False),
                      Question(f"due_{row}", f"{row}. Due", multiline=False, kind="date")]
    return Form(title=f"Action items of {m.ref}", submit_command=f"meeting submit {m.ref}",
                intro=f"{m.purpose}. Each row with an owner, what and a due date becomes a commitment "
                      f"with reminders. Leave the rows you don't need empty.",
                questions=tuple(questions), submit_label="Save")


def action_facts(actions: list[Commitment], people: dict[int, Person],
                 tz_of: Callable[[Person], str]) -> tuple[Fact, ...]:
    """'C-3 · maria': 'send the recap, due Fri 27 Nov 17:00 (Europe/Berlin)', on the owner's clock."""
    return tuple(Fact(f"{c.ref} · {people[c.owner_id].display_name}",
                      f"{c.what}, due {format_instant(c.due_at, tz_of(people[c.owner_id]))}") for c in actions)


def summary(m: Meeting, p: Partnership, actions: list[Commitment], leads: list[Lead],
            people: dict[int, Person], tz_of: Callable[[Person], str]) -> Reply:
    """Purpose, who contributed, action items with owners and dates, leads created."""
    contributors = sorted({people[r.created_by_id].display_name for r in (*actions, *leads)})
    head = (f"Community of practice of {p.ref} {p.name}. Purpose: {m.purpose}. "
            f"Contributed: {', '.join(contributors) or 'nobody'}.")
    lead_facts = tuple(Fact(f"{lead.ref} · {lead.account}",
                            f"{lead.idea} (owner {people[lead.owner_id].display_name})") for lead in leads)
    return Reply.of_cards(
        Card(title=f"{m.ref} closed · {m.purpose}", text=head),
        Card(title="Action items", facts=action_facts(actions, people, tz_of)),
        Card(title="Leads created", text="" if leads else "None.", facts=lead_facts),
        sections=True,
    )
