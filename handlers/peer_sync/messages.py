"""What the weekly peer sync says: the prompt, the nudge, the answer form and the digest."""
from __future__ import annotations

from datetime import datetime

from handlers.kernel.model import Button, Card, Fact, Form, Question, Reply
from storage.models import Commitment, Partnership, PeerSync, Person, SyncAnswer

QUESTIONS = (
    ("results", "Results since the last sync"),
    ("people", "Update on individual salespeople"),
    ("working", "What is working"),
    ("change", "What needs to change"),
    ("commit", "What I commit to this week"),
    ("problems", "Problems to resolve together"),
)
PLEDGES = "commit"  # the question whose lines become commitments


def answer_button(sync: PeerSync) -> Button:
    return Button("Answer", f"sync answer {sync.ref}", "primary")


def prompt_reply(sync: PeerSync, p: Partnership, peer: Person, deadline: str) -> Reply:
    """The weekly prompt with its Answer button; `deadline` as the manager's clock shows it."""
    return Reply(
        f"Time for your weekly peer sync {sync.ref} with {peer.display_name} ({p.ref} {p.name}). "
        f"Six short questions; answer by {deadline}. Click Answer or type `sync answer {sync.ref}`.",
        cards=(Card(title=f"Peer sync {sync.ref} · {p.ref} {p.name}",
                    text=f"Your weekly sync with {peer.display_name}.",
                    facts=(Fact("Answer by", deadline),),
                    buttons=(answer_button(sync),)),),
    )


def nudge_reply(sync: PeerSync, p: Partnership, peer: Person | None, peer_answered: bool, deadline: str) -> Reply:
    """To a manager who has not answered after `nudge_after_hours`; says where their peer is."""
    peer_state = ""
    if peer:
        peer_state = f" {peer.display_name} has answered." if peer_answered else \
            f" {peer.display_name} has not answered yet either."
    return Reply(
        f"Reminder: peer sync {sync.ref} ({p.ref} {p.name}) is waiting for your answer.{peer_state} "
        f"The digest goes out by {deadline}.",
        cards=(Card(title=f"{sync.ref} is waiting for you", text=peer_state.strip(),
                    facts=(Fact("Digest by", deadline),), buttons=(answer_button(sync),)),),
    )


def answer_form(sync: PeerSync, p: Partnership, answer: SyncAnswer, edit: bool) -> Form:
    previous = (answer.answers or {}) if edit else {}
    return Form(
        title=f"Peer sync {sync.ref}",
        intro=f"{p.ref} {p.name}, week {sync.week}. Answer what applies; each line of "
              f"'{QUESTIONS[4][1]}' becomes a commitment due by the next sync.",
        submit_command=f"sync submit {sync.ref}" + (" edit" if edit else ""),
        questions=tuple(
            Question(id=qid, label=label, value=previous.get(qid, ""),
                     hint="One commitment per line." if qid == PLEDGES else "")
            for qid, label in QUESTIONS
        ),
        submit_label="Save answer" if edit else "Submit",
    )


def pledge_status(c: Commitment, now: datetime) -> str:
    if c.status == "done":
        return "kept" if c.closed_at <= c.due_at else "kept late"
    if c.status == "dropped":
        return "dropped"
    return "missed" if now >= c.due_at else "open"


def build_digest(sync: PeerSync, p: Partnership, answers: list[SyncAnswer], people: dict[int, Person],
                 goals: list[str], previous: PeerSync | None, pledges: list[Commitment],
                 owners: dict[int, Person], now: datetime, lead_lines: list[str] = (),
                 charter_not_agreed_by: list[str] = ()) -> Reply:
    """Both answers per question side by side, the mutual goals, last week's pledges and the
    open leads; who did not answer, and who has not agreed to the charter."""
    silent = [people[a.person_id].display_name for a in answers if not a.answered_at]
    if len(silent) == len(answers):
        status = "Nobody answered this week: " + " and ".join(silent) + " did not answer."
    elif silent:
        status = f"One-sided: {', '.join(silent)} did not answer."
    else:
        status = "Both managers answered."
    if charter_not_agreed_by:
        status += (f" Charter not agreed by {' and '.join(charter_not_agreed_by)}: "
                   f"`partnership {p.ref} agree`.")
    cards = [Card(title=f"Peer sync {sync.ref} · {p.ref} {p.name} · week {sync.week}", text=status)]
    for qid, label in QUESTIONS:
        cards.append(Card(title=label, facts=tuple(
            Fact(people[a.person_id].display_name,
                 ((a.answers or {}).get(qid) or "—") if a.answered_at else "(did not answer)")
            for a in answers)))
    cards.append(Card(title="Mutual goals", text="\n".join(f"{i}. {g}" for i, g in enumerate(goals, 1)) or
                      f"None yet: add one with `partnership {p.ref} goal <text>`."))
    if previous:
        cards.append(Card(title=f"Last week's pledges ({previous.ref})",
                          text="" if pledges else "No pledges were made.",
                          facts=tuple(Fact(f"{c.ref} · {owners[c.owner_id].display_name}",
                                           f"{c.what}: {pledge_status(c, now)}") for c in pledges)))
    if lead_lines:
        cards.append(Card(title="Open leads", text="\n".join(lead_lines)))
    return Reply.of_cards(*cards, sections=True)
