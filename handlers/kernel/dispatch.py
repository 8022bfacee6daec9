"""Carry out a Command: one transaction, one Reply, never an exception to the adapter."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from handlers.kernel.context import Context
from handlers.kernel.dates import reading_at
from handlers.kernel.errors import FieldErrors, UserError
from handlers.kernel.grammar import MAX_COMMAND_CHARS, split_verb
from handlers.kernel.model import FIX_FORM, Account, Command, Reply
from handlers.kernel.registry import Registry
from handlers.kernel.settings import SettingsLike
from storage.db import Database
from storage.models import Person, Workspace
from storage.store import AlreadyHandled, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _Duplicate(Exception):
    pass


# Why: JSON can carry lone UTF-16 surrogates ("\ud800") that no UTF-8 database can store, and
# PostgreSQL refuses NUL in text; either made a command fail with "Something went wrong".
_UNSTORABLE = re.compile("[\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """`value` with NUL removed and lone surrogates as U+FFFD, in strings, mappings and lists."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value.replace("\x00", ""))
    if value is None or isinstance(value, bool):  # most fields: before the costlier checks below
        return value
    if isinstance(value, Mapping):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(v) for v in value]
    if isinstance(value, Account):
        return replace(value, other_id=_storable(value.other_id), email=_storable(value.email))
    return value


def storable(command: Command) -> Command:
    """The command with every field it may save made storable (see _UNSTORABLE), and without a
    platform timezone that is no IANA zone. Why: a Teams client reporting `Not/AZone` was saved
    as the person's clock, and every dated command of theirs failed from then on."""
    cleaned = {name: _storable(getattr(command, name)) for name in _SAVED_FIELDS}
    if cleaned["platform_timezone"] and not _known_zone(cleaned["platform_timezone"]):
        cleaned["platform_timezone"] = None
    if all(cleaned[name] == getattr(command, name) for name in _SAVED_FIELDS):
        return command  # as almost every command is: no new one to build
    return replace(command, **cleaned)


_SAVED_FIELDS = tuple(f.name for f in fields(Command) if f.name != "raw")


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)  # cached by zoneinfo after the first time
    except (ValueError, KeyError, OSError):  # unknown (ZoneInfoNotFoundError is a KeyError), or a path
        return False
    return True


def _account_of(command: Command) -> Account:
    """What the platform told us of the caller's account (their other id, their email)."""
    return command.accounts.get(command.user) or Account()


class Dispatcher:
    def __init__(
        self, db: Database, settings: SettingsLike, registry: Registry, clock: Clock = utc_now,
        on_outbox: Callable[[], None] | None = None,
    ):
        self.db = db
        self.settings = settings
        self.registry = registry  # its verbs are what can be typed (handlers.default_registry())
        self.clock = clock
        self.on_outbox = on_outbox  # wakes the outbox sender after a commit that owes messages
        self._workspaces: dict[tuple[str, str], Workspace] = {}  # rows never change once committed

    async def dispatch(self, command: Command) -> Reply:
        if (length := len(command.text.strip())) > MAX_COMMAND_CHARS:
            # before any parser, and without touching the database: a refusal that costs nothing
            return Reply(f"That command is {length:,} characters long; a command can be at most "
                         f"{MAX_COMMAND_CHARS:,} characters (Slack's limit). Nothing was changed.", ok=False)
        command = storable(command)
        name, args = split_verb(command.text)
        if not name:
            name, args = "help", ""
        verb = self.registry.get(name)
        if verb is None:
            await self.remember_contact(command)
            return Reply(f"I don't know the verb '{name}'. Try `help` for the list.", ok=False)
        now = self.clock()
        try:
            # a date written outside `now`'s year shows its year (dates.format_day)
            with reading_at(now):
                async with self.db.transaction() as store:
                    if command.delivery_id and not await store.claim_delivery(
                            command.delivery_id, now, caller=self._known_caller(command)):
                        raise _Duplicate
                    workspace, caller = await self._caller(store, command, now)
                    ctx = Context(command, store, now, self.settings, workspace, caller, self.registry)
                    reply = await verb.handler(ctx, args)
        except FieldErrors as refusal:
            await self.remember_contact(command)  # rolled back with the refused answers
            # the form comes back as submitted, each reason beside its field (the text says them too)
            return Reply(f"{FIX_FORM}\n{refusal}", ok=False, replace_source=command.from_button,
                         form=refusal.form.refused({**(command.form_values or {}), **refusal.answers},
                                                   refusal.errors))
        except UserError as refusal:
            await self.remember_contact(command)  # rolled back with the refused change
            return Reply(f"{refusal}\nUsage: {verb.usage_text}", ok=False)
        except (_Duplicate, AlreadyHandled):  # the claim refused at once, or with the command's writes
            return Reply("That request was already handled; nothing more was done.", ok=False, repeated=True)
        except Exception:
            log.exception("command failed: %s %r", command.platform, command.text)
            return Reply("Something went wrong on our side and nothing was changed. Please try again.", ok=False)
        self._after_commit(command, workspace, store)
        return reply

    async def remember_contact(self, command: Command) -> None:
        """Save how to reach the caller, in a transaction of its own (a first contact
        releases the messages that waited for it)."""
        if not (command.contact or command.channel_contact):
            return
        command = storable(command)
        now = self.clock()
        try:
            async with self.db.transaction() as store:
                workspace, _ = await self._caller(store, command, now)
        except Exception:
            log.exception("could not save the contact of %s:%s", command.platform, command.user)
            return
        self._after_commit(command, workspace, store)

    async def identify(self, platform: str, workspace: str, user: str) -> tuple[int, int]:
        """The ids of a workspace and of one of its people (both created on first sight): what a
        client that reads its own messages (the console) filters the outbox by."""
        now = self.clock()
        async with self.db.transaction() as store:
            found = await store.workspace(platform, workspace, now)
            return found.id, (await store.person(found, user, user, now)).id

    def _known_caller(self, command: Command) -> tuple[int, str] | None:
        """The caller as _caller() will look them up by one id, when their workspace is known:
        the claim of the delivery may read them on the way (Store.claim_delivery)."""
        workspace = self._workspaces.get((command.platform, command.workspace))
        if workspace is None or _account_of(command).other_id:
            return None
        return workspace.id, command.user

    async def _caller(self, store: Store, command: Command, now: datetime) -> tuple[Workspace, Person]:
        """The caller's workspace and person (created on first sight), with what the platform
        told us of them this time: their profile timezone and how to reach them."""
        workspace = self._workspaces.get((command.platform, command.workspace)) or \
            await store.workspace(command.platform, command.workspace, now)
        account = _account_of(command)
        caller = await store.person(workspace, command.user, command.user_name, now,
                                    other_id=account.other_id, email=account.email)
        if command.platform_timezone and caller.platform_timezone != command.platform_timezone:
            caller.platform_timezone = command.platform_timezone
            if not caller.timezone:  # their clock moved: so do their peer-sync prompts
                await self.registry.follow_timezone(store, caller.id, caller.platform_timezone, now)
        if command.contact:
            await store.remember_contact(workspace.id, command.user, dict(command.contact), now)
        if command.channel_contact and command.channel:
            await store.remember_channel(workspace.id, command.channel, dict(command.channel_contact), now)
        return workspace, caller

    def _after_commit(self, command: Command, workspace: Workspace, store: Store) -> None:
        # remembered only once committed: a refused first command rolls its workspace back
        self._workspaces[(command.platform, command.workspace)] = workspace
        if store.enqueued and self.on_outbox:
            self.on_outbox()
