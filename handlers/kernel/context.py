"""What a handler knows about the work it is doing: a command someone typed (Context), or a
piece of scheduled work (JobContext). Both carry the store of one transaction, the instant
and the settings, and log the same way, so a service serves a verb and a job alike."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from handlers.kernel.dates import local_today
from handlers.kernel.errors import UserError
from handlers.kernel.grammar import parse_ref, take_mention
from handlers.kernel.model import Account, Command, Reply
from handlers.kernel.outbound import timezone_of, to_person
from handlers.kernel.registry import Registry
from handlers.kernel.settings import SettingsLike
from storage.models import Person, Workspace
from storage.store import Store


@dataclass
class JobContext:
    """Scheduled work: nobody typed it, so its log rows name no person."""

    store: Store
    now: datetime
    settings: SettingsLike
    platform = "scheduler"  # what the activity log says did it
    # other work the tick's summary reports, e.g. missed runs skipped: counted once it commits
    tally: Counter = field(default_factory=Counter)

    def timezone_of(self, person: Person) -> str:
        return timezone_of(person, self.settings.timezone)

    def count(self, name: str, n: int = 1) -> None:
        self.tally[name] += n

    async def log(self, action: str, record: str, before: dict | None = None, after: dict | None = None, *,
                  workspace_id: int) -> None:
        await self.store.log(workspace_id=workspace_id, at=self.now, person_id=None, platform=self.platform,
                             action=action, record=record, before=before, after=after)


@dataclass
class Context:
    """A command being carried out: who typed what, where."""

    command: Command
    store: Store
    now: datetime
    settings: SettingsLike
    workspace: Workspace
    caller: Person
    registry: Registry  # what can be typed here (`help` lists it)

    @property
    def platform(self) -> str:
        return self.command.platform

    def timezone_of(self, person: Person) -> str:
        return timezone_of(person, self.settings.timezone)

    @property
    def tz(self) -> str:
        return self.timezone_of(self.caller)

    @property
    def today(self) -> date:
        """The caller's local date: every date phrase is read against it."""
        return local_today(self.now, self.tz)

    async def mentioned_person(self, user_id: str, name: str | None) -> Person:
        name = name or self.command.mention_names.get(user_id)
        account = self.command.accounts.get(user_id) or Account()
        workspace = self.workspace
        if account.workspace and account.workspace != self.command.workspace:  # Slack Connect: their own
            workspace = await self.store.workspace(self.platform, account.workspace, self.now)
        return await self.store.person(workspace, user_id, name, self.now,
                                       other_id=account.other_id, email=account.email)

    async def take_person(self, text: str, usage_hint: str) -> tuple[Person, str]:
        """The mention at the start of `text` as a person, and the rest of the text."""
        taken = take_mention(text)
        if taken is None:
            raise UserError(f"Mention {usage_hint} with @ (a plain name is not enough).")
        user_id, name, rest = taken
        return await self.mentioned_person(user_id, name), rest

    def ref_number(self, token: str, kind: str, what: str) -> int:
        number = parse_ref(token, kind)
        if number is None:
            raise UserError(f"'{token}' is not a {what} reference like {kind}-1.")
        return number

    @property
    def channel(self) -> str | None:
        """The channel it was typed in; None in a direct chat with the bot."""
        return None if self.command.is_direct else self.command.channel

    async def log(self, action: str, record: str, before: dict | None = None, after: dict | None = None, *,
                  workspace_id: int | None = None) -> None:
        """Log a change of `record`, in the workspace the record is numbered in (a linked
        person may change a partnership's C-n or L-n from their other platform's workspace)."""
        await self.store.log(**self.log_row(action, before, after, workspace_id=workspace_id), record=record)

    def log_row(self, action: str, before: dict | None = None, after: dict | None = None, *,
                workspace_id: int | None = None) -> dict:
        """What `log` writes, but the record: for a row logged as it is numbered
        (Store.insert_numbered), whose record is its reference."""
        return {"workspace_id": workspace_id or self.workspace.id, "at": self.now, "person_id": self.caller.id,
                "platform": self.platform, "action": action, "before": before, "after": after}

    async def notify(self, person: Person, kind: str, record: str, reply: Reply, period: str = "-") -> bool:
        """Owe `person` a message through the outbox, on the caller's platform when they are on
        it. False when it must wait until they first talk to the bot (it is delivered then)."""
        return await to_person(
            self.store, workspace_id=self.workspace.id, person=person, kind=kind,
            record=record, period=period, reply=reply, now=self.now, prefer_platform=self.platform,
        )
