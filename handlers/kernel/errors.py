from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.kernel.model import Form


class UserError(Exception):
    """A command that cannot be carried out; its message is shown to the user as is."""


class FieldErrors(UserError):
    """A form's answers refused field by field: `errors` says, by question id, what is wrong
    with each answer (every one found, not only the first). Nothing is saved; the caller gets
    `form` back with what they typed and each reason beside its field (Form.refused).
    `answers` are answers as the handler read them, shown instead of the submitted ones (a
    picked person with the name the bot knows them by, so a picker can show it)."""

    def __init__(self, form: Form, errors: Mapping[str, str], answers: Mapping[str, str] | None = None):
        self.form = form
        self.answers = dict(answers or {})
        order = [q.id for q in form.questions]  # said in the form's order
        self.errors = dict(sorted(errors.items(), key=lambda e: order.index(e[0]) if e[0] in order else len(order)))
        labels = {q.id: q.label for q in form.questions}
        super().__init__("\n".join(f"• {labels.get(qid, qid)}: {message}" for qid, message in self.errors.items()))
