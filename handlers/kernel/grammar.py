r"""Tokens of the command grammar: mentions, references, and the `by <date>` tail.

Every parser here runs in time linear in its input (SPEC §2), and so must every verb's: a
command is at most MAX_COMMAND_CHARS, but a parser that backtracks or rescans turns that into
seconds. The traps, each met before: a regex that starts with `\s+` is tried at every space
of a long run of them (anchor it with `(?<!\s)`); a regex search for `<@…|…>` at the end of
the text rescans to the end from every `<@` (find the last `>` first, see tail_mention); and a
loop that tries each ` re ` or ` by ` and reparses the text before it (see DatedText).
"""
from __future__ import annotations

import re
from bisect import bisect_right
from datetime import date
from itertools import accumulate
from typing import NamedTuple

from handlers.kernel.dates import MAX_DATE_CHARS, is_date, looks_like_date, not_a_date
from handlers.kernel.errors import UserError

# Slack's limit on a slash command's text; the dispatcher refuses a longer command on every
# platform before any parser sees it.
MAX_COMMAND_CHARS = 4000

# Slack sends <@U123|name> or <@U123>; the other adapters rewrite their mentions to this form.
MENTION = re.compile(r"<@([A-Za-z0-9._:\-]+)(?:\|([^>]*))?>")
_MENTION_HEAD = r"<@[A-Za-z0-9._:\-]+[|>]"  # a mention's start, up to the `|` or `>` after its id
_REF = re.compile(r"^#?([A-Za-z])-?(\d{1,9})$")
_BY = re.compile(r"\bby\b", re.IGNORECASE)


def split_verb(text: str) -> tuple[str, str]:
    text = text.strip()
    if not text:
        return "", ""
    head, _, rest = text.partition(" ")
    return head.lower(), rest.strip()


def parse_ref(token: str, kind: str) -> int | None:
    """`C-12`, `c12`, `#C-12` → 12 when the letter is `kind`."""
    m = _REF.match(token.strip())
    if m and m.group(1).upper() == kind:
        return int(m.group(2))
    return None


def ref_kind(token: str) -> str | None:
    m = _REF.match(token.strip())
    return m.group(1).upper() if m else None


def take_mention(text: str) -> tuple[str, str | None, str] | None:
    """A mention at the start of `text`: (user id, name or None, the rest)."""
    m = MENTION.match(text.strip())
    if not m:
        return None
    return m.group(1), m.group(2), text.strip()[m.end():].strip()


def has_mention(text: str) -> bool:
    """Whether `text` holds a mention anywhere: MENTION.search without its rescans (a `<@U1|`
    with no `>` after it would be read to the end once per `<@`)."""
    last = text.rfind(">")
    return any(m.group().endswith(">") or m.end() <= last for m in _MENTION_HEADS.finditer(text))


_MENTION_HEADS = re.compile(_MENTION_HEAD)
_TAIL_MENTIONS: dict[str | None, re.Pattern] = {}


class TailMention(NamedTuple):
    start: int  # where the blank before the keyword (or the mention) begins
    mention: str  # the whole mention, `<@U1|name>`


def tail_mention(text: str, keyword: str | None = None, *, start: int = 0,
                 end: int | None = None) -> TailMention | None:
    r"""`… <keyword> <@U1|name>` at the end of text[start:end] (blanks after it allowed): the
    leftmost such ending, as a search for `\s+keyword\s+MENTION\s*$` finds it; the keyword in
    any case, the mention as MENTION reads it. Linear: a mention ending the text has no `>` but
    its last, so only the text after the `>` before it is searched."""
    end = len(text) if end is None else end
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start or text[end - 1] != ">":
        return None
    pattern = _TAIL_MENTIONS.get(keyword)
    if pattern is None:
        # (?<!\s): tried once per run of blanks, not once per blank
        word = rf"(?i:{re.escape(keyword)})\s+" if keyword else ""
        pattern = _TAIL_MENTIONS[keyword] = re.compile(rf"(?<!\s)\s+{word}({_MENTION_HEAD})")
    after = max(start, text.rfind(">", start, end - 1) + 1)
    m = pattern.search(text[after:end])
    return TailMention(after + m.start(), text[after + m.start(1):end]) if m else None


def _spaces_before(text: str) -> list[int]:
    """For each index of text (and its end), how many blanks come before it."""
    return list(accumulate(map(str.isspace, text), initial=0))


class DatedText:
    """A text in which `by <date>` is looked for before several ends (a `commit` tries each
    ` re ` as the end of its date). Each lookup reads only the last `by` before its end and
    what follows it, and only when that has at most MAX_DATE_CHARS letters and digits: no
    date phrase is longer, and none has the word `by` in it, so what follows any `by` further
    back is no date. So all lookups together take time linear in the text (a lookup that
    tried every `by` within MAX_DATE_CHARS made an adversarial 4,000-character `commit` 20 ms).

    A `by` may be the text's first word ('by fri': a date and nothing before it, which the verb
    then asks for)."""

    def __init__(self, text: str, today: date):
        self.text, self.today = text, today
        self._bys = [m.span() for m in _BY.finditer(text)]
        self._by_ends = [stop for _, stop in self._bys]
        self._spaces = _spaces_before(text)

    def _solid(self, start: int, end: int) -> int:
        """Letters, digits and signs (anything but blanks) in text[start:end]."""
        return (end - start) - (self._spaces[end] - self._spaces[start])

    def _tail(self, end: int) -> tuple[int, int, str] | None:
        """The last `by` in text[:end] and the words after it up to `end`, when those are few
        enough to be a date (MAX_DATE_CHARS); None otherwise."""
        i = bisect_right(self._by_ends, end) - 1
        if i < 0:
            return None
        start, stop = self._bys[i]  # a `by` further back has this one in its date: no date
        if self._solid(stop, end) > MAX_DATE_CHARS:
            return None
        return start, stop, self.text[stop:end]

    def last_by(self, end: int) -> tuple[int, int] | None:
        """The span of the last `by` in text[:end] with a date between it and `end`; None when
        there is none."""
        tail = self._tail(end)
        if tail is not None and is_date(tail[2], self.today):
            return tail[0], tail[1]
        return None

    def split(self, end: int | None = None) -> tuple[str, str | None]:
        """split_by_date of text[:end]."""
        end = len(self.text) if end is None else end
        found = self.last_by(end)
        if found is None:
            tail = self._tail(end)  # meant as a date? (words on lines of their own are text)
            if tail is not None and "\n" not in tail[2] and looks_like_date(tail[2]):
                raise UserError(not_a_date(tail[2]))
            return self.text[:end].strip(), None
        return self.text[: found[0]].strip(), self.text[found[1]:end].strip()


def split_by_date(text: str, today: date) -> tuple[str, str | None]:
    """Split 'what … by <date phrase>' at the last `by` whose tail is a date.

    'call by phone by fri' → ('call by phone', 'fri'); 'by fri' → ('', 'fri'). A tail that is
    not a date leaves the text whole ('review by legal'), unless it was meant as one: a past or
    ambiguous date ('by yesterday', 'by 12/11'), which parse_date then reports, or a few words
    with a digit or a word only dates have ('by asap', 'by next fortnight', 'by 3pm'), which
    are refused here: "'asap' is not a date I can read; try …".
    """
    return DatedText(text, today).split()
