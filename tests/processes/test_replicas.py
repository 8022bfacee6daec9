"""Two `partnerbot serve` replicas on one PostgreSQL, as a load balancer runs them.

Real processes against the fake Slack Web API; each replica reaches it at its own base URL,
so every call the fake records says which replica made it. These tests always use a
PostgreSQL database of their own (two replicas need a shared server database), whatever
PARTNERBOT_TEST_BACKEND says (marked `postgres`: CI runs them in its first pass only), and skip
saying why when PostgreSQL is not there.
Run them alone with `pytest -m replicas -s` (`-s` shows the duplicate counts of the kill).
"""
from __future__ import annotations

import asyncio
import inspect
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.config import DEFAULTS, WEEKDAYS, load_settings
from bot.outbox import LEASE, OutboxSender
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from handlers.kernel.model import Command
from storage.db import Database
from storage.models import Claim, Commitment, Handoff, Identity, OutboxMessage
from tests.conftest import FixedClock, migrated
from tests.fakes.slack_api import Call, FakeSlackApi
from tests.fakes.slack_requests import SIGNING_SECRET, button_body, signed_headers, slash_body
from tests.postgres import fresh_postgres_url
from tests.spawn import clean_env, serve, start, stop

pytestmark = [pytest.mark.process, pytest.mark.replicas, pytest.mark.postgres]

PROMPT = "Time for your weekly peer sync"
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60)  # a loaded 2-core machine can be slow; never hang forever
# The sender sends this many messages at once, each marked sent before its slot takes the next:
# at most that many can be handed to Slack and not yet marked sent when a replica dies.
SENDER_CONCURRENCY = inspect.signature(OutboxSender).parameters["concurrency"].default
# Leases of a killed replica must expire before the other replica takes its batch over. A
# short lease keeps the test short where the setting exists; otherwise the built-in one.
DEFAULT_LEASE = DEFAULTS["outbox"].get("lease_seconds") or LEASE.total_seconds()
SHORT_LEASE = 10 if "lease_seconds" in DEFAULTS["outbox"] else None


# --- the fake Slack Web API, told apart per replica ------------------------------------------
class ReplicaSlackApi(FakeSlackApi):
    """The fake Slack Web API at one base URL per replica (`url_for("A")`): every recorded
    call has the replica that made it in `args["_replica"]`. With `post_delay`, Slack takes
    the message at once but answers chat.postMessage that much later: a send in flight."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.post_delay = 0.0
        self.in_flight: Counter = Counter()  # replica -> messages posted, answer not yet given

    async def start(self) -> ReplicaSlackApi:
        app = web.Application()
        app.router.add_route("*", "/{replica}/api/{method}", self._handle_from_replica)
        await self.serve(app)
        self.url = ""  # no shared URL: each replica has its own
        return self

    def url_for(self, replica: str) -> str:
        return f"http://127.0.0.1:{self.port}/{replica}/api/"

    async def _handle_from_replica(self, request: web.Request) -> web.Response:
        replica = request.match_info["replica"]
        # the fake records query parameters among a call's args: the replica rides along there
        tagged = request.clone(rel_url=request.rel_url.update_query(_replica=replica))
        response = await self._handle(tagged)
        if self.post_delay and request.match_info["method"] == "chat.postMessage":
            self.in_flight[replica] += 1
            try:
                await asyncio.sleep(self.post_delay)
            finally:
                self.in_flight[replica] -= 1
        return response

    def posts(self, replica: str | None = None) -> list[Call]:
        return [c for c in self.calls_to("chat.postMessage") if replica in (None, c.args.get("_replica"))]


def kind_of(text: str) -> str:
    if text.startswith(PROMPT):
        return "prompt"
    if re.search(r"started P-\d+|proposes P-\d+|accepted P-\d+", text):
        return "partnership notice"
    return "other"


def received(call: Call) -> tuple[str, str]:
    """(Slack user id, kind) of a direct message as its recipient sees it."""
    channel = call.args["channel"]
    assert channel.startswith("D"), f"a message went to a channel: {call.args}"
    return channel[1:], kind_of(call.args["text"])


# --- replicas ---------------------------------------------------------------------------------
class Replica:
    """One running `partnerbot serve`; its output is read as it comes (a full pipe would stall
    it) and kept for the assertion messages."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, url: str, started: str):
        self.name, self.process, self.url = name, process, url
        self.lines = [started]
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def post(self, http: aiohttp.ClientSession, body: str, headers: dict) -> aiohttp.ClientResponse:
        response = await http.post(f"{self.url}/slack/events", data=body, headers=headers)
        await response.read()
        return response

    async def slash(self, http: aiohttp.ClientSession, user: str, text: str) -> str:
        """`/partner <text>` typed by `user` in their DM with the bot: the answer they see."""
        body = slash_body(text, user=user, channel=f"D{user}", user_name=NAMES.get(user))
        response = await self.post(http, body, signed_headers(body))
        assert response.status == 200, (self.name, text, response.status, self.output[-3000:])
        return (await response.json())["text"]

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def close(self) -> None:
        await stop(self.process)
        await self._reader


def defaults_file(cwd: Path) -> str:
    """An app.yaml that sets nothing: the built-in defaults, whatever the repository's says."""
    path = cwd / "app.yaml"
    path.write_text("{}\n")
    return str(path)


def replica_env(url: str, fake: ReplicaSlackApi, name: str, cwd: Path, *, short_lease: bool = True,
                **settings: str) -> dict[str, str]:
    """What an operator gives every replica: the same database, secrets and PUBLIC_URL (the
    load balancer's address); here each its own fake Slack URL, to tell their calls apart."""
    env = clean_env(DATABASE_URL=url, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-test",
                    SLACK_API_URL=fake.url_for(name), PUBLIC_URL="https://partnerbot.example.com",
                    PARTNERBOT_CONFIG=defaults_file(cwd),
                    PARTNERBOT_CADENCE__TICK_SECONDS="1", PARTNERBOT_OUTBOX__POLL_SECONDS="0.5", **settings)
    if SHORT_LEASE and short_lease:
        env["PARTNERBOT_OUTBOX__LEASE_SECONDS"] = str(SHORT_LEASE)
    return env


@asynccontextmanager
async def replicas(cwd: Path, url: str, fake: ReplicaSlackApi, *names: str, short_lease: bool = True,
                   **settings: str) -> AsyncIterator[list[Replica]]:
    """The replicas started at the same moment (each applies the migrations at start; the
    advisory lock makes one of them do it), stopped at the end."""
    started = await asyncio.gather(
        *(serve(cwd, replica_env(url, fake, n, cwd, short_lease=short_lease, **settings)) for n in names),
        return_exceptions=True)
    running = [Replica(n, *s) for n, s in zip(names, started) if not isinstance(s, BaseException)]
    try:
        for s in started:
            if isinstance(s, BaseException):
                raise s
        yield running
    finally:
        for replica in running:
            await replica.close()


@asynccontextmanager
async def slack_api(**kw) -> AsyncIterator[ReplicaSlackApi]:
    fake = await ReplicaSlackApi(**kw).start()
    try:
        yield fake
    finally:
        await fake.stop()


# --- 1: commands sent alternately to each replica --------------------------------------------
NAMES = {"U1": "ana", "U2": "bob", "U3": "cho", "U4": "dev"}


async def test_commands_sent_alternately_to_two_replicas_each_see_what_the_other_saved(tmp_path):
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(fresh_postgres_url())  # empty: the replicas migrate it
        fake = await stack.enter_async_context(slack_api(names=NAMES))
        a, b = await stack.enter_async_context(replicas(tmp_path, url, fake, "A", "B"))
        http = await stack.enter_async_context(aiohttp.ClientSession(timeout=HTTP_TIMEOUT))

        assert "C-1 saved: send pricing deck to Acme" in await a.slash(http, "U1", "commit send pricing deck to Acme by fri")
        assert "C-1 · send pricing deck to Acme" in await b.slash(http, "U1", "list")
        assert "H-1 handed to bob" in await a.slash(
            http, "U1", "handoff <@U2|bob> Acme Corp: needs a security review by fri")
        assert "H-1 · Acme Corp: needs a security review" in await b.slash(http, "U2", "list")

        # Bob accepts on replica B with the button of the message that A's handoff owed him;
        # Slack retries the click and the load balancer sends the retry to replica A.
        (dm,) = await fake.wait_until(lambda: [c for c in fake.posts() if c.args["channel"] == "DU2"], 1, 30,
                                      "the handoff's message to Bob")
        (accept,) = [e for block in dm.args["blocks"] if block["type"] == "actions" for e in block["elements"]
                     if e["text"]["text"] == "Accept"]
        click = button_body(accept["value"], user="U2", channel="DU2", message_ts="1.000100",
                            action_id=accept["action_id"])
        assert (await b.post(http, click, signed_headers(click))).status == 200
        retry = await a.post(http, click, {**signed_headers(click), "X-Slack-Retry-Num": "1",
                                           "X-Slack-Retry-Reason": "http_timeout"})
        assert retry.status == 200
        assert "not accepted yet" not in await a.slash(http, "U1", "list")

        assert "C-1 kept (on time)" in await b.slash(http, "U1", "done C-1")
        assert "C-1" not in await a.slash(http, "U1", "list")
        assert "C-2 saved" in await a.slash(http, "U2", "commit book the security review re H-1 by thu")
        assert "C-2 kept" in await b.slash(http, "U2", "done C-2 booked for Thursday")
        assert "H-1" in await b.slash(http, "U1", "handoff H-1 positioned the review is booked")
        assert "H-1 · Acme Corp: needs a security review · positioned" in await a.slash(http, "U2", "list")

        # Ten commits at once, alternately to each replica: one number each, none shared.
        burst = [(a, b)[i % 2].slash(http, f"U{1 + i % 4}", f"commit follow up {i} by fri") for i in range(10)]
        answers = await asyncio.gather(*burst)
        numbers = sorted(int(re.match(r"C-(\d+) saved", text).group(1)) for text in answers)
        assert numbers == list(range(3, 13)), answers
        everything = [await replica.slash(http, "U1", "list") for replica in (a, b)]
        for i in range(0, 10, 4):  # U1's commits of the burst (follow up 0, 4, 8), seen through both
            assert all(f"follow up {i} " in text for text in everything), everything

        # What each replica owed other people, delivered once.
        await fake.wait_until(lambda: [c for c in fake.posts() if c.args["channel"] == "DU1"], 1, 30,
                              "Bob's acceptance, told to Ana")
        await settled(fake)
        told = sorted((c.args["channel"], c.args["text"].split(":")[0]) for c in fake.posts())
        assert told == [("DU1", "bob accepted H-1"),  # once, though the click came twice
                        ("DU2", "ana handed you H-1"), ("DU2", "ana moved H-1 (Acme Corp) to positioned. Note")], told
        async with database(url) as db, db.session() as s:
            assert (await s.exec(select(func.count()).select_from(Commitment))).scalar_one() == 12
            (handoff,) = (await s.exec(select(Handoff))).scalars().all()
            assert handoff.accepted_at is not None and handoff.stage == "positioned"
            assert {m.status for m in (await s.exec(select(OutboxMessage))).scalars()} == {"sent"}
        for replica in (a, b):
            assert "Traceback" not in replica.output, replica.output


async def settled(fake: FakeSlackApi, quiet: float = 2.0, timeout: float = 30.0) -> None:
    """Wait until the fake has had no call for `quiet` seconds (the senders have nothing left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = len(fake.calls)
        await asyncio.sleep(quiet)
        if len(fake.calls) == seen:
            return
    raise AssertionError(f"the fake Slack API never went quiet: {len(fake.calls)} calls")


# --- a fan-out: many partnerships whose managers' weekly prompts are all due ----------------
def due_a_minute_ago() -> tuple[datetime, dict[str, str]]:
    """A peer-sync slot that fell a minute ago (UTC) and the settings that put it there; the
    monthly pulse on another weekday, so that only prompts are due."""
    fire = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)
    weekday = WEEKDAYS[fire.weekday()]
    return fire, {"PARTNERBOT_CADENCE__PEER_SYNC__WEEKDAY": weekday,
                  "PARTNERBOT_CADENCE__PEER_SYNC__TIME": fire.strftime("%H:%M"),
                  "PARTNERBOT_CADENCE__PULSE__DAY": WEEKDAYS[(fire.weekday() + 3) % 7]}


async def make_partnerships(url: str, cwd: Path, fire: datetime, settings: dict[str, str], count: int) -> list[str]:
    """`count` partnerships made through the real handlers an hour before the slot: each
    manager's prompt is due. Returns the managers' Slack user ids."""
    environ = {"PARTNERBOT_CONFIG": defaults_file(cwd), **settings}
    managers = [f"U{i:04d}" for i in range(1, 2 * count + 1)]
    gate = asyncio.Semaphore(8)
    async with migrated(url) as db:
        dispatcher = Dispatcher(db, load_settings(environ), default_registry(), FixedClock(fire - timedelta(hours=1)))

        async def one(a: str, b: str) -> None:
            async with gate:
                reply = await dispatcher.dispatch(Command(
                    platform="slack", workspace="T1", user=a, user_name=f"m{a}", channel=f"D{a}", is_direct=True,
                    platform_timezone="UTC", text=f"partnership new Alliance {a} with <@{b}|m{b}>"))
                assert reply.ok, reply.text
                ref = re.match(r"P-\d+", reply.text).group(0)
                reply = await dispatcher.dispatch(Command(
                    platform="slack", workspace="T1", user=b, user_name=f"m{b}", channel=f"D{b}", is_direct=True,
                    platform_timezone="UTC", text=f"partnership {ref} accept"))
                assert reply.ok, reply.text

        await asyncio.gather(*(one(managers[i], managers[i + 1]) for i in range(0, len(managers), 2)))
    return managers


@asynccontextmanager
async def database(url: str) -> AsyncIterator[Database]:
    """The replicas' database as it is (they migrated it), to read what they did."""
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()


async def outbox_status(url: str) -> Counter:
    async with database(url) as db, db.session() as s:
        return Counter(dict((await s.exec(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all()))


async def wait_for_fan_out(fake: ReplicaSlackApi, url: str, expected: set[tuple[str, str]], timeout: float) -> None:
    """Until every expected (user, kind) arrived and nothing is left to send."""
    deadline = time.monotonic() + timeout
    while True:
        missing = expected - {received(c) for c in fake.posts()}
        status = await outbox_status(url)
        if not missing and set(status) == {"sent"}:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"fan-out unfinished after {timeout}s: {len(missing)} missing "
                                 f"(e.g. {sorted(missing)[:5]}), outbox {dict(status)}")
        await asyncio.sleep(0.5)


def expected_messages(managers: list[str]) -> set[tuple[str, str]]:
    """Every manager's prompt; side B's invitation to the partnership, side A's notice that B accepted it."""
    return {(m, "prompt") for m in managers} | {(m, "partnership notice") for m in managers}


# --- 2: each scheduled prompt exactly once ---------------------------------------------------
async def test_two_replicas_and_a_cron_tick_send_each_due_prompt_exactly_once(tmp_path):
    fire, settings = due_a_minute_ago()
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(fresh_postgres_url())
        managers = await make_partnerships(url, tmp_path, fire, settings, 30)  # 60 managers
        fake = await stack.enter_async_context(slack_api())
        # Hold sync_series (what a tick reads first) so that the ticks of both replicas and a
        # `partnerbot tick` from cron all start on the due prompts at the same moment.
        gate = await stack.enter_async_context(holding_sync_series(url))
        a, b = await stack.enter_async_context(replicas(tmp_path, url, fake, "A", "B", **settings))
        cron = await start("tick", cwd=tmp_path, env=replica_env(url, fake, "cron", tmp_path, **settings))
        stack.push_async_callback(stop, cron)
        await gate.release_when_waiting(3, [a, b])
        out, _ = await asyncio.wait_for(cron.communicate(), 120)
        assert cron.returncode == 0 and "Traceback" not in out.decode(), out.decode()

        await wait_for_fan_out(fake, url, expected_messages(managers), timeout=120)
        await settled(fake)
        got = Counter(received(c) for c in fake.posts())
        assert set(got) == expected_messages(managers)
        twice = {k: n for k, n in got.items() if n != 1}
        assert twice == {}, twice
        async with database(url) as db, db.session() as s:
            claims = (await s.exec(select(Claim.key).where(Claim.key.like("sync.prompt:%")))).scalars().all()
        assert len(claims) == len(set(claims)) == 60
        by = Counter(c.args["_replica"] for c in fake.posts())
        print(f"\nreplicas: {sum(by.values())} messages, sent by {dict(by)}; cron's "
              f"{out.decode().strip().splitlines()[-1]}")
        for replica in (a, b):
            assert "Traceback" not in replica.output, replica.output


class SyncSeriesGate:
    """A transaction holding sync_series exclusively: every tick waits on it until released."""

    def __init__(self, connection, transaction):
        self.connection, self.transaction = connection, transaction
        self.released = False

    async def release_when_waiting(self, ticks: int, replicas: list[Replica], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        waiting = 0
        while waiting < ticks and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            await self.connection.execute("SELECT pg_stat_clear_snapshot()")  # else the first answer is kept
            waiting = await self.connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        await self.transaction.commit()
        self.released = True
        assert waiting >= ticks, (f"{waiting} of {ticks} ticks waited at the starting line",
                                  [r.output[-2000:] for r in replicas])


@asynccontextmanager
async def holding_sync_series(url: str) -> AsyncIterator[SyncSeriesGate]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("LOCK TABLE sync_series IN ACCESS EXCLUSIVE MODE")
        gate = SyncSeriesGate(connection, transaction)
        try:
            yield gate
        finally:
            if not gate.released:
                await transaction.rollback()
    finally:
        await connection.close()


# --- 3: SIGKILL in the middle of a fan-out ---------------------------------------------------
async def test_a_replica_killed_mid_fan_out_leaves_the_other_to_finish_it(tmp_path):
    async with AsyncExitStack() as stack:
        # 400 prompts, 200 notices; kill A once it is well into them, while most are still to go
        url, expected, fake, (a, b) = await fan_out_under_way(stack, tmp_path, 200)
        in_flight = fake.in_flight["A"]
        await a.kill()
        killed_at = time.monotonic()
        assert a.process.returncode == -signal.SIGKILL
        sent_before = len(fake.posts())
        assert sent_before < len(expected) - 100, f"the fan-out was nearly over at the kill: {sent_before}"
        await asyncio.sleep(0.5)  # a request A wrote just before dying still reaches Slack
        unconfirmed = await pending_after_kill(url, {received(c) for c in fake.posts("A")})

        await wait_for_fan_out(fake, url, expected, timeout=(SHORT_LEASE or DEFAULT_LEASE) + 180)
        await settled(fake)
        posts = fake.posts()
        got = Counter(received(c) for c in posts)
        assert set(got) == expected  # every manager got their prompt, every notice went
        twice = {k for k, n in got.items() if n > 1}
        print(f"\nreplicas: SIGKILL of A after {sent_before} of {len(expected)} messages; "
              f"{in_flight} awaiting Slack's answer, {len(unconfirmed)} sent by A "
              f"but not yet marked sent; duplicates: {len(twice)}; "
              f"sent by {dict(Counter(c.args['_replica'] for c in posts))}")
        # The only repeats: what A had handed to Slack and not yet marked sent when it died,
        # sent again by B once A's lease ran out: at most A's concurrent sends.
        assert twice == unconfirmed, (twice, unconfirmed)
        assert len(twice) <= SENDER_CONCURRENCY
        for key in twice:
            first, second = [c for c in posts if received(c) == key]
            assert first.args["_replica"] == "A" and first.at <= killed_at
            assert second.args["_replica"] == "B" and second.at > killed_at
        assert "Traceback" not in b.output, b.output


async def fan_out_under_way(stack: AsyncExitStack, tmp_path: Path, partnerships: int, **replica_options):
    """Replicas A and B on a fresh PostgreSQL, every manager's prompt of `partnerships`
    partnerships due, returned once A has sent 40 prompts: (url, expected, fake Slack, replicas)."""
    fire, settings = due_a_minute_ago()
    url = await stack.enter_async_context(fresh_postgres_url())
    managers = await make_partnerships(url, tmp_path, fire, settings, partnerships)
    fake = await stack.enter_async_context(slack_api())
    fake.post_delay = 0.02  # Slack answers each message 20 ms late: A always has some in flight
    pair = await stack.enter_async_context(replicas(tmp_path, url, fake, "A", "B", **replica_options, **settings))
    await fake.wait_until(lambda: [c for c in fake.posts("A") if kind_of(c.args["text"]) == "prompt"], 40, 120,
                          "prompts sent by replica A")
    return url, expected_messages(managers), fake, pair


async def pending_after_kill(url: str, sent_by_a: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The messages A handed to Slack whose outbox rows are still pending: A died before
    marking them sent (they were in flight at the kill)."""
    async with database(url) as db, db.session() as s:
        rows = (await s.exec(
            select(Identity.external_id, OutboxMessage.idempotency_key)
            .join(Identity, (Identity.person_id == OutboxMessage.recipient_person_id)
                  & (Identity.platform == OutboxMessage.platform))
            .where(OutboxMessage.status == "pending"))).all()
    kinds = {"sync.prompt": "prompt", "partnership.proposed": "partnership notice",
             "partnership.accepted": "partnership notice"}
    pending = {(user, kinds.get(key.split(":", 1)[0], "other")) for user, key in rows}
    return pending & sent_by_a


# --- 4: a rolling restart: SIGTERM in the middle of a fan-out --------------------------------
async def test_a_replica_stopped_mid_fan_out_hands_the_rest_back_at_once_and_repeats_nothing(tmp_path):
    async with AsyncExitStack() as stack:
        # 300 prompts, 300 notices; the built-in lease: what is left must go out well before it
        # could have run out
        url, expected, fake, (a, b) = await fan_out_under_way(stack, tmp_path, 150, short_lease=False)
        a.process.send_signal(signal.SIGTERM)  # what a rolling deploy or a scale-down does
        signalled_at, sent_before = time.monotonic(), len(fake.posts())
        assert sent_before < len(expected) - 100, f"the fan-out was nearly over at the stop: {sent_before}"
        assert await asyncio.wait_for(a.process.wait(), 60) == 0, a.output[-3000:]
        stopped_at = time.monotonic()

        await wait_for_fan_out(fake, url, expected, timeout=DEFAULT_LEASE * 2 / 3)
        finished_in = time.monotonic() - stopped_at
        await settled(fake)
        got = Counter(received(c) for c in fake.posts())
        print(f"\nreplicas: SIGTERM of A after {sent_before} of {len(expected)} messages; "
              f"A exited {stopped_at - signalled_at:.1f}s later; "
              f"B sent the rest {finished_in:.1f}s after A exited (lease {DEFAULT_LEASE:.0f}s); "
              f"A's tick was {'cut off' if 'tick stopped with the server' in a.output else 'not running'}")
        assert set(got) == expected
        twice = {k: n for k, n in got.items() if n > 1}
        assert twice == {}, twice
        assert not [c for c in fake.posts("A") if c.at > stopped_at]
        for replica in (a, b):
            assert "Traceback" not in replica.output, replica.output
