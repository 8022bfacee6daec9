"""End to end through the real entry points: `partnerbot serve`, `console`, `tick`, `db upgrade`."""
import asyncio
import signal

import aiohttp
import pytest

from storage.models import Handoff, OutboxMessage
from tests.conftest import migrated
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_body
from tests.helpers import rows
from tests.spawn import clean_env, read_until, serve, start, stop

pytestmark = pytest.mark.process




async def test_a_reply_survives_sigkill_and_its_message_is_delivered_after_restart(tmp_path, db_url, fake_slack):
    env = clean_env(DATABASE_URL=db_url, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                    SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake_slack.url)
    fake_slack.throttle_remaining, fake_slack.retry_after = 10_000, 1  # keep the DM from leaving
    process, url, _ = await serve(tmp_path, env)
    try:
        body = slash_body("handoff <@U2> Acme Corp: needs a security review by fri")
        async with aiohttp.ClientSession() as http:
            response = await http.post(f"{url}/slack/events", data=body, headers=signed_headers(body))
            answer = await response.json()
        assert "H-1 handed to" in answer["text"]
        await fake_slack.wait_for("conversations.open#429")  # the sender tried and was told to wait
        await asyncio.sleep(0.3)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    finally:
        await stop(process)

    async with migrated(db_url) as database:
        (handoff,) = await rows(database, Handoff)
        (message,) = await rows(database, OutboxMessage)
    assert handoff.account == "Acme Corp" and message.status == "pending"

    fake_slack.throttle_remaining = 0
    process, _, _ = await serve(tmp_path, env)
    try:
        (dm,) = await fake_slack.wait_for("chat.postMessage", timeout=15)
        assert dm.args["channel"] == "DU2" and "H-1" in dm.args["text"]
        await asyncio.sleep(1.5)  # a second sender pass must not send it again
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
    finally:
        await stop(process)


async def test_healthz_answers_and_without_credentials_there_is_no_platform_endpoint(tmp_path, db_url):
    process, url, started = await serve(tmp_path, clean_env(DATABASE_URL=db_url))
    assert "UNAUTHENTICATED" not in started and "Teams is off" in started
    try:
        async with aiohttp.ClientSession() as http:
            response = await http.get(f"{url}/healthz")
            assert response.status == 200 and await response.json() == {"ok": True, "slack": False, "teams": False}
            assert (await http.post(f"{url}/slack/events", data="x")).status == 404  # Slack is off
            assert (await http.post(f"{url}/api/messages", json={"type": "message"})).status == 404  # Teams too
    finally:
        await stop(process)


async def test_an_unauthenticated_teams_endpoint_is_announced_at_start_and_on_healthz(tmp_path, db_url):
    process, url, started = await serve(tmp_path, clean_env(DATABASE_URL=db_url, PARTNERBOT_TEAMS__UNAUTHENTICATED="1"))
    try:
        # printed, not only logged: seen by whoever started it, whatever the log level
        printed = [line for line in started.splitlines() if line.startswith("!!! teams.unauthenticated")]
        assert printed and "UNAUTHENTICATED Teams activities on 127.0.0.1" in printed[0]
        assert " WARNING bot.server: !!! teams.unauthenticated" in started  # and in the log
        async with aiohttp.ClientSession() as http:
            health = await (await http.get(f"{url}/healthz")).json()
        assert health == {"ok": True, "slack": False, "teams": "unauthenticated"}
    finally:
        await stop(process)


async def _console(tmp_path, db_url, user: str, lines: str) -> str:
    process = await start("console", "--as", user, cwd=tmp_path, env=clean_env(DATABASE_URL=db_url),
                          stdin=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(lines.encode()), 30)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_the_console_speaks_the_same_grammar(tmp_path, db_url):
    out = await _console(tmp_path, db_url, "ana", (
        "partner commit send pricing deck to Acme by fri\n"
        "commit x by 2020-01-01\n"
        "done C-1\n"
        "list\n"
        "dance\n"
    ))
    assert "C-1 saved: send pricing deck to Acme" in out
    assert "in the past" in out and "Usage: `commit" in out
    assert "C-1 kept" in out
    assert "nothing open" in out
    assert "don't know the verb 'dance'" in out
    assert "Traceback" not in out


async def test_exit_or_quit_leaves_the_console(tmp_path, db_url):
    for word in ("exit", "quit"):
        out = await _console(tmp_path, db_url, "ana", f"commit send deck by fri\n{word}\nlist\n")
        assert "saved: send deck" in out and "Your open items" not in out  # nothing read after it
        assert "Traceback" not in out


async def test_ctrl_c_leaves_the_console_without_a_traceback_and_keeps_what_was_saved(tmp_path, db_url):
    process = await start("console", "--as", "ana", cwd=tmp_path, env=clean_env(DATABASE_URL=db_url),
                          stdin=asyncio.subprocess.PIPE)
    try:
        await read_until(process, r"you are @ana")
        process.stdin.write(b"commit send deck by fri\n")
        await process.stdin.drain()
        _, before = await read_until(process, r"C-1 saved")
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends; stdin stays open, as in a terminal
        rest, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        await stop(process)
    out = before + rest.decode()
    assert process.returncode == 130 and "Bye." in out and "Traceback" not in out, out
    assert "C-1 · send deck" in await _console(tmp_path, db_url, "ana", "list\n")


async def test_a_handoff_reaches_the_receivers_open_console_as_it_arrives(tmp_path, db_url):
    bob = await start("console", "--as", "bob", cwd=tmp_path, env=clean_env(DATABASE_URL=db_url),
                      stdin=asyncio.subprocess.PIPE)
    try:
        await read_until(bob, r"you are @bob")
        out = await _console(tmp_path, db_url, "ana", "handoff @bob Acme Corp: needs a security review by fri\n")
        assert "H-1 handed to bob" in out
        _, seen = await read_until(bob, r"type: handoff H-1 accept")
        assert "ana handed you H-1: Acme Corp" in seen
        bob.stdin.write(b"handoff H-1 accept\n")
        await bob.stdin.drain()
        await read_until(bob, r"You accepted H-1")
        bob.stdin.close()
        assert await asyncio.wait_for(bob.wait(), 20) == 0
    finally:
        await stop(bob)
    out = await _console(tmp_path, db_url, "ana", "")
    assert "bob accepted H-1" in out  # ana's message waited for her console


async def test_tick_and_db_upgrade_run_and_exit_zero(tmp_path, db_url):
    outputs = {}
    for args in (("db", "upgrade"), ("tick", "--now", "2026-11-30T09:00:00+01:00"), ("tick",)):
        process = await start(*args, cwd=tmp_path, env=clean_env(DATABASE_URL=db_url))
        out, _ = await process.communicate()
        assert process.returncode == 0, out.decode()
        outputs[args] = out.decode()
    assert "latest schema" in outputs[("db", "upgrade")]
    assert "tick at 2026-11-30T09:00:00+01:00" in outputs[("tick", "--now", "2026-11-30T09:00:00+01:00")]


async def test_tick_refuses_a_bad_time_clearly(tmp_path, db_url):
    process = await start("tick", "--now", "next tuesday", cwd=tmp_path, env=clean_env(DATABASE_URL=db_url))
    out, _ = await process.communicate()
    assert process.returncode == 2 and "not an ISO-8601 time" in out.decode()
