"""`partnerbot console` serves the dashboard's pages while it runs, so the link `dashboard` answers
in the terminal opens; with `partnerbot serve` already on that address, the console leaves the
pages to it and still chats."""
from __future__ import annotations

import asyncio
import re
import socket

import aiohttp
import pytest

from tests.spawn import clean_env, read_until, start, stop

pytestmark = pytest.mark.process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _type(process, *lines: str) -> None:
    process.stdin.write("".join(f"{line}\n" for line in lines).encode())
    await process.stdin.drain()


async def test_the_link_a_console_gives_opens_the_dashboard_while_it_runs(tmp_path, db_url):
    port = _free_port()
    env = clean_env(DATABASE_URL=db_url, HOST="127.0.0.1", PORT=str(port))
    ana = await start("console", "--as", "ana", cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE)
    try:
        await read_until(ana, r"you are @ana in workspace 'console'")
        await _type(ana, "commit send the deck by fri", "dashboard")
        match, _ = await read_until(ana, r"(http://localhost:\d+)(/app/signin/[A-Za-z0-9_-]{43})")
        assert match.group(1) == f"http://localhost:{port}"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # unsafe: an IP host
            async with http.get(f"http://127.0.0.1:{port}{match.group(2)}", allow_redirects=False) as signed_in:
                assert signed_in.status == 303 and signed_in.headers["Location"] == "/app/"
            async with http.get(f"http://127.0.0.1:{port}/app/") as overview:
                page = await overview.text()
                assert overview.status == 200 and "<h1>Partnerships</h1>" in page
            async with http.get(f"http://127.0.0.1:{port}/app/logout") as out:
                assert out.status == 200
    finally:
        await stop(ana)


async def test_a_console_beside_serve_on_its_address_still_chats(tmp_path, db_url):
    port = _free_port()
    env = clean_env(DATABASE_URL=db_url, HOST="127.0.0.1", PORT=str(port))
    taken = socket.socket()
    taken.bind(("127.0.0.1", port))
    taken.listen()
    try:
        ana = await start("console", "--as", "ana", cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE)
        try:
            await read_until(ana, r"you are @ana in workspace 'console'")
            await _type(ana, "dashboard")
            match, _ = await read_until(ana, r"/app/signin/[A-Za-z0-9_-]{43}")
            assert re.search(r"/app/signin/", match.group(0))
        finally:
            await stop(ana)
    finally:
        taken.close()
