"""The verbs of the grammar: each topic module lists its own, the registry checks them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Awaitable, Callable, Iterable

from handlers.kernel.model import Reply

if TYPE_CHECKING:
    from handlers.kernel.context import Context

Handler = Callable[["Context", str], Awaitable[Reply]]


@dataclass(frozen=True)
class Verb:
    name: str
    usage: tuple[str, ...]  # one line per form, each starting with the verb
    summary: str
    examples: tuple[str, ...]
    handler: Handler

    @property
    def usage_text(self) -> str:
        return " | ".join(f"`{u}`" for u in self.usage)


class Registry:
    def __init__(self, verbs: Iterable[Verb] = ()):
        self._verbs: dict[str, Verb] = {}
        for verb in verbs:
            self.add(verb)

    def add(self, verb: Verb) -> None:
        if verb.name in self._verbs:
            raise ValueError(f"verb '{verb.name}' registered twice")
        if not verb.usage or not all(u.startswith(verb.name) for u in verb.usage):
            raise ValueError(f"verb '{verb.name}': every usage line must start with the verb")
        if not verb.examples:
            raise ValueError(f"verb '{verb.name}' needs at least one example")
        self._verbs[verb.name] = verb

    def get(self, name: str) -> Verb | None:
        return self._verbs.get(name)

    def __iter__(self):
        return iter(self._verbs.values())


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    from handlers.asks import verbs as asks
    from handlers.commitments import verbs as commitments
    from handlers.handoffs import verbs as handoffs
    from handlers.kernel import help
    from handlers.leads import verbs as leads
    from handlers.meetings import verbs as meetings
    from handlers.partnerships import verbs as partnerships
    from handlers.peer_sync import verbs as sync_commands
    from handlers.people import link, verbs as people
    from handlers.pulse import verbs as pulse
    from handlers.reports import export, listing, scorecard as report
    from handlers.wins import service as wins

    return Registry([*commitments.VERBS, *handoffs.VERBS, *listing.VERBS, *partnerships.VERBS,
                     *sync_commands.VERBS, *meetings.VERBS, *leads.VERBS, *asks.VERBS, *pulse.VERBS,
                     *wins.VERBS, *report.VERBS, *export.VERBS,
                     *people.VERBS, *link.VERBS, *help.VERBS])
