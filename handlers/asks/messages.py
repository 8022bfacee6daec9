"""How an ask is shown: its card, its response buttons, and the forms a button opens."""
from __future__ import annotations

from handlers.kernel.model import Button, Card, Fact, Form, Question, Reply
from handlers.kernel.text import day_text
from storage.models import Ask, Person


def response_buttons(ref: str, accepted: bool = False) -> tuple[Button, ...]:
    accept = () if accepted else (Button("Accept", f"ask {ref} accept", "primary"),)
    return (*accept, Button("Decline", f"ask {ref} decline", "danger"), Button("Answer", f"ask {ref} answer"))


def tail_text(a: Ask, link: str | None) -> str:
    """' — by Fri 27 Nov, re P-1 Acme Alliance' (or the part of it there is)."""
    parts = ([f"by {day_text(a.due_date)}"] if a.due_date else []) + ([f"re {link}"] if link else [])
    return f" — {', '.join(parts)}" if parts else ""


def ask_card(a: Ask, asker: Person, link: str | None, title: str, buttons: tuple[Button, ...] = (),
             extra: tuple[Fact, ...] = ()) -> Card:
    facts = [Fact("From", asker.display_name)]
    if a.due_date:
        facts.append(Fact("By", day_text(a.due_date)))
    if link:
        facts.append(Fact("Re", link))
    return Card(title=title, text=a.request, facts=(*facts, *extra), buttons=buttons)


def response_form(a: Ask, asker: Person, action: str) -> Form:
    """The form a Decline or Answer button opens: the reason, or the answer."""
    if action == "answer":
        return Form(title=f"Answer {a.ref}", submit_command=f"ask {a.ref} answer", submit_label="Send",
                    intro=f"{a.ref} from {asker.display_name}: {a.request}. {asker.display_name} gets your answer.",
                    questions=(Question("answer", "Answer"),))
    return Form(title=f"Decline {a.ref}", submit_command=f"ask {a.ref} decline", submit_label="Decline",
                intro=f"{a.ref} from {asker.display_name}: {a.request}. {asker.display_name} sees the reason.",
                questions=(Question("reason", "Reason", multiline=False),))


def told_asker(a: Ask, person: Person, action: str, text: str, link: str | None) -> Reply:
    """To the asker: how the person asked responded."""
    if action == "accept":
        return Reply(f"{person.display_name} accepted {a.ref}: {a.request}{tail_text(a, link)}. "
                     f"They'll answer it here.")
    if action == "decline":
        return Reply(f"{person.display_name} declined {a.ref}: {a.request}." + (f" Reason: {text}." if text else ""))
    return Reply(f"{person.display_name} answered {a.ref} ({a.request}): {text}",
                 cards=(Card(title=f"{a.ref} answered by {person.display_name}", text=text,
                             facts=(Fact("You asked", a.request),)),))


def answered_reply(a: Ask, asker: Person, action: str, text: str, link: str | None, *,
                   replace_source: bool) -> Reply:
    """To the person who responded: what they did, with the ask as it is now."""
    ref = a.ref
    done = {"accept": f"You accepted {ref}: {a.request}. {asker.display_name} has been told; answer it with "
                      f"`ask {ref} answer <text>`.",
            "decline": f"You declined {ref}: {a.request}." + (f" Reason: {text}." if text else "")
                       + f" {asker.display_name} has been told.",
            "answer": f"You answered {ref} ({a.request}): {text}. {asker.display_name} has been told."}[action]
    buttons = response_buttons(ref, accepted=True) if action == "accept" else ()
    extra = (Fact("Reason", text),) if action == "decline" and text else \
        (Fact("Answer", text),) if action == "answer" else ()
    return Reply(done, cards=(ask_card(a, asker, link, f"{ref} — {a.status}", buttons, extra),),
                 replace_source=replace_source)
