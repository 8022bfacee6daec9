"""Microsoft 365 Agents Playground (npm `@microsoft/m365agentsplayground`), Microsoft's own Teams
emulator, driven as a Teams client of a real `partnerbot serve`.

Why not only our fake connector (teams_connector.py): it builds activities the way we believe
Teams does, so it cannot catch what we believe wrongly. The Playground builds them the way
Microsoft does, and that differs where it hurt: Teams sends a mention as `{id: "29:…", name}`,
without the person's AAD object id, while that person's own messages carry `aadObjectId` in
`from`, so a person mentioned before they first wrote was two people to the bot.

One `Playground` is one person's Teams client: a Playground process whose current user is
`me` (it sends every message as its current user, as its web page does). A second person is a
second Playground on the same bot, with the same tenant, bot and people but its own current user.
It is driven through what its own web page uses:

- `.m365agentsplayground.yml` in its working directory: tenant, bot, the current user, exactly
  five other users, a personal chat, a group chat and a team with one channel besides General
  (JSON is YAML, so it is written as JSON);
- `GET /_internal/v1/config`: that configuration (it first waits, up to 15 s, for the bot's
  endpoint to answer);
- `POST /_conversation/v1/conversations/{id}/messages`: a message typed in a chat or channel,
  `{type: "text", text, textFormat: "plain", from: {id}, mentions: [{mentioned: {id, name}, text:
  "<at>name</at>"}]}`; in a channel it starts a post (`postConversationId` in the answer, the
  conversation the bot answers in) and reaches the bot only when the bot is mentioned;
- `POST /_conversation/v1/submit`: an Adaptive Card `Action.Submit` click, `{type: "submit",
  conversation: {id}, replyToId: <the card's message id>, value: <the action's data>, from: {id}}`;
- the WebSocket `/_ws_conversation/v1/conversations/stream`: what the bot posts
  (`createMessage`) and updates (`updateMessage`). The Playground buffers what it would send
  while no client is connected, so one connection is kept from start to stop;
- the WebSocket `/_ws/log/stream` (its log panel): every activity it posts to the bot and every
  connector call the bot makes to it, with the answers.

The Playground opens a browser at start: `TEAMSAPPTESTER_BROWSER=none` (read in its source) turns
that off, and a no-op `xdg-open` first on its PATH covers a version without that switch (without
either, on a machine with no desktop it exits 1: `spawn xdg-open ENOENT`).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

PACKAGE = "@microsoft/m365agentsplayground"
VERSION = "0.2.28"  # the one .ci/run installs
ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / ".playground"  # git-ignored
CLI = INSTALL / "node_modules" / PACKAGE / "cli.js"
INSTALL_COMMAND = f"npm install --no-audit --no-fund --prefix .playground {PACKAGE}@{VERSION}"


def unavailable() -> str | None:
    """Why the Playground cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return f"node is not on PATH: the Teams Playground ({PACKAGE}) needs Node.js"
    if not CLI.exists():
        return f"{PACKAGE} is not installed in .playground/ (run: {INSTALL_COMMAND})"
    return None


@dataclass(frozen=True)
class Account:
    id: str  # the Teams channel account id (`29:…` for a person, `28:…` for the bot)
    name: str
    aad: str = ""  # the AAD (Entra) object id; none for the bot

    def as_user(self) -> dict:
        first, _, last = self.name.partition(" ")
        address = f"{first.lower()}@example.com"
        return {"id": self.id, "name": self.name, "userPrincipleName": address,  # sic: the Playground's spelling
                "aadObjectId": self.aad, "givenName": first, "surname": last or first, "email": address}


TENANT = "72f988bf-0000-4000-8000-0000000000aa"
BOT = Account("28:partnerbot-app-id", "Partnerbot")
TEAM = "19:general@thread.tacv2"  # the team's id is its General channel's
CHANNEL = "19:acme@thread.tacv2"
# Six people: a Playground's current user and exactly five others (its schema's rule).
PEOPLE = [Account(f"29:{first.lower()}-teams-id", f"{first} {last}", f"{n:08x}-0000-4000-8000-{n:012x}")
          for n, (first, last) in enumerate([("Ana", "Lopez"), ("Bob", "Chen"), ("Cleo", "Diaz"),
                                             ("Dev", "Patel"), ("Eve", "Moreau"), ("Finn", "Berg")], start=10)]


def configuration(me: Account) -> dict:
    """The `.m365agentsplayground.yml` of `me`'s Playground: the same tenant, bot, team and people
    in every Playground, each with its own current user and personal chat."""
    return {
        "version": "0.1.1",
        "tenantId": TENANT,
        "bot": {"id": BOT.id, "name": BOT.name},
        "currentUser": me.as_user(),
        "users": [p.as_user() for p in PEOPLE if p != me],
        "personalChat": {"id": f"a:personal-{me.aad}"},
        "groupChat": {"id": "19:group@thread.v2", "name": "Partners chat"},
        "team": {"id": TEAM, "name": "Partners", "aadGroupId": "00000000-0000-4000-8000-0000000000e1",
                 "channels": [{"id": CHANNEL, "name": "Acme"}]},
    }


@dataclass
class Shown:
    """A message of the bot as the Playground shows it (one WebSocket action)."""
    action: str  # "createMessage" or "updateMessage"
    conversation: str  # where it is: a chat, or a channel post's conversation
    id: str  # the message id: a card's `replyToId` when one of its buttons is clicked
    sender: str
    text: str
    attachments: list = field(default_factory=list)

    @property
    def card(self) -> dict:
        (attachment,) = self.attachments
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive", attachment
        return attachment["content"]

    @property
    def fallback(self) -> str:
        return self.card.get("fallbackText", "") if self.attachments else self.text

    @property
    def buttons(self) -> dict[str, dict]:
        """The card's Action.Submit buttons: title -> the data a click submits."""
        if not self.attachments:
            return {}
        return {a["title"]: a.get("data", {}) for a in self.card.get("actions", []) if a["type"] == "Action.Submit"}


class Playground:
    """One person's Teams client: a Playground process, its current user `me`, on `endpoint`."""

    def __init__(self, me: Account, workdir: Path, endpoint: str):
        self.me, self.workdir, self.endpoint = me, workdir, endpoint
        self.url = ""
        self.config: dict = {}
        self.shown: list[Shown] = []  # everything the bot posted or updated, in order
        self.sent: list[dict] = []  # every activity the Playground posted to the bot
        self.connector_calls: list[dict] = []  # the bot's calls to its connector (log entries)
        self.output: list[str] = []  # the process's stdout and stderr
        self._to_bot = 0  # activities this Playground posted to the bot for what was said or clicked
        self._changed = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task] = []

    @property
    def personal(self) -> str:
        """`me`'s personal chat with the bot."""
        return self.config["personalChat"]["id"]

    async def __aenter__(self) -> Playground:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_) -> None:
        await self.stop()

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / ".m365agentsplayground.yml").write_text(json.dumps(configuration(self.me), indent=2))
        no_browser = self.workdir / "bin"
        no_browser.mkdir(exist_ok=True)
        (no_browser / "xdg-open").write_text("#!/bin/sh\nexit 0\n")
        (no_browser / "xdg-open").chmod(0o755)
        env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none",
               "PATH": f"{no_browser}{os.pathsep}{os.environ.get('PATH', '')}"}
        self._process = await asyncio.create_subprocess_exec(
            shutil.which("node") or "node", str(CLI), "--app-endpoint", self.endpoint, "--channel-id", "msteams",
            "--port", "0", "--disable-telemetry",
            cwd=self.workdir, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends node and anything it started
        )
        listening = asyncio.get_running_loop().create_future()
        self._tasks.append(asyncio.create_task(self._read_output(listening)))
        try:
            port = await asyncio.wait_for(listening, 20)
        except TimeoutError:
            raise AssertionError(f"the Playground did not listen within 20 s:\n{self.log()}") from None
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        stream = await self._http.ws_connect(f"{self.url}/_ws_conversation/v1/conversations/stream")
        log = await self._http.ws_connect(f"{self.url}/_ws/log/stream")
        self._tasks += [asyncio.create_task(self._read_stream(stream)), asyncio.create_task(self._read_log(log))]
        async with self._http.get(f"{self.url}/_internal/v1/config") as response:
            assert response.status == 200, await response.text()
            answer = await response.json()
        self.config = answer["config"]
        assert self.config["currentUser"]["id"] == self.me.id, self.config["currentUser"]
        assert answer["internalConfig"]["channelId"] == "msteams", answer["internalConfig"]

    async def stop(self) -> None:
        # Why wait: the bot posts its answer to the Playground before it answers the Playground's
        # own request, and the Playground shows the answer before it answers the bot; ended then,
        # it would cut the bot's request off ("Remote end closed connection without response").
        # Logged last is the Playground's request, with the bot's answer to it: once every one is,
        # nothing is in flight. (Not raised: a test that gets here early has failed already.)
        if self._http and self._to_bot:
            try:
                await self._wait(lambda: True if len(self.sent) >= self._to_bot else None,
                                 f"answer to each of the {self._to_bot} activities sent to the bot", 10.0)
            except AssertionError:
                pass
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http:
            await self._http.close()
        if self._process and self._process.returncode is None:
            for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self._process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    await asyncio.wait_for(self._process.wait(), grace)
                    break
                except TimeoutError:
                    continue
        if self._process:
            try:  # whatever it left in its group (node starts none with telemetry off; kept safe)
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # --- what a person does in the page -----------------------------------------------------------
    async def say(self, conversation: str, text: str) -> str:
        """Type `text` in `conversation` as the page does (`<at>Name</at>` is a mention picked from
        the people and the bot, outside a personal chat); returns the conversation the bot
        answers in (in a channel, the post this message starts)."""
        body: dict = {"type": "text", "text": text, "textFormat": "plain", "from": {"id": self.me.id}}
        if conversation != self.personal:
            body["mentions"] = self._mentions(text)
        if conversation == self.personal or any(m["mentioned"]["id"] == BOT.id for m in body["mentions"]):
            self._to_bot += 1  # elsewhere the bot hears only what mentions it
        async with self._http.post(f"{self.url}/_conversation/v1/conversations/{conversation}/messages",
                                   json=body) as response:
            assert response.status == 200, await response.text()
            answer = await response.json()
        return answer.get("postConversationId") or conversation

    async def click(self, message: Shown, title: str) -> None:
        """Click the card's Action.Submit button `title`, as the page posts it."""
        assert title in message.buttons, f"no button {title!r} on {message.buttons}"
        body = {"type": "submit", "conversation": {"id": message.conversation}, "replyToId": message.id,
                "value": message.buttons[title], "from": {"id": self.me.id}}
        self._to_bot += 1
        async with self._http.post(f"{self.url}/_conversation/v1/submit", json=body) as response:
            assert response.status == 200, await response.text()

    def _mentions(self, text: str) -> list[dict]:
        """What the page sends for each `<at>name</at>` whose name is someone's (its own rule)."""
        accounts = [{"id": BOT.id, "name": BOT.name}, self.config["currentUser"], *self.config["users"]]
        mentions = []
        for match in re.finditer(r"<at>(.*?)</at>", text):
            if account := next((a for a in accounts if a["name"] == match[1]), None):
                mentions.append({"mentioned": {"id": account["id"], "name": account["name"]}, "text": match[0]})
        return mentions

    # --- waiting for what the bot does ------------------------------------------------------------
    async def shows(self, conversation: str | None, containing: str, *, action: str = "createMessage",
                    message_id: str | None = None, after: Shown | None = None, timeout: float = 10.0) -> Shown:
        """The first message of the bot in `conversation` (None: any) whose card's fallback text
        (or text) contains `containing`, shown after `after` when given; waits for it."""
        def found(m: Shown) -> bool:
            return (m.action == action and m.sender == BOT.id and containing in m.fallback
                    and conversation in (None, m.conversation) and message_id in (None, m.id))

        def first() -> Shown | None:
            start = next(i for i, m in enumerate(self.shown) if m is after) + 1 if after else 0
            return next((m for m in self.shown[start:] if found(m)), None)
        what = f"{action} in {conversation or 'any conversation'} containing {containing!r}"
        return await self._wait(first, what, timeout)

    async def sent_activity(self, where: Callable[[dict], bool], what: str, timeout: float = 10.0) -> dict:
        """The first activity the Playground posted to the bot that is `where` (logged once the bot answered)."""
        return await self._wait(lambda: next((a for a in self.sent if where(a)), None),
                                f"activity sent to the bot: {what}", timeout)

    async def _wait(self, find: Callable[[], object], what: str, timeout: float):
        deadline = time.monotonic() + timeout
        while (result := find()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "\n".join(f"  {m.action} {m.conversation} {m.id}: {m.fallback[:160]!r}" for m in self.shown)
                raise AssertionError(f"{self.me.name}'s Playground: no {what} within {timeout} s; it showed:\n"
                                     f"{seen or '  nothing'}\n{self.log()}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass
        return result

    def log(self) -> str:
        """The Playground's own log file (where its console goes when stdout is not a terminal)."""
        path = self.workdir / "devTools" / "m365agentsplayground.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {path} (last 4000 characters) ---\n{text[-4000:]}\n--- stdout ---\n{''.join(self.output)[-2000:]}"

    # --- readers ----------------------------------------------------------------------------------
    async def _read_output(self, listening: asyncio.Future) -> None:
        while line := await self._process.stdout.readline():
            text = line.decode(errors="replace")
            self.output.append(text)
            if not listening.done() and (match := re.match(r"Listening on (\d+)", text)):
                listening.set_result(int(match[1]))
        if not listening.done():
            listening.set_exception(AssertionError(
                f"the Playground exited ({await self._process.wait()}) before listening:\n{self.log()}"))

    async def _read_stream(self, stream: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in stream:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            if data.get("action") not in ("createMessage", "updateMessage"):
                continue  # typing
            message = data["message"]
            self.shown.append(Shown(
                action=data["action"], conversation=message.get("postConversationId") or data["actionConversationId"],
                id=message["messageId"], sender=message["from"]["id"], text=message.get("text") or "",
                attachments=message.get("attachments") or []))
            self._changed.set()

    async def _read_log(self, log: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in log:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            entry = json.loads(frame.data).get("log", {})
            if entry.get("from") == "Microsoft 365 Agents Playground" and "request" in entry:
                self.sent.append(entry["request"].get("body") or {})
            elif entry.get("from") == "User Application":
                self.connector_calls.append(entry)
            self._changed.set()
