"""Run `partnerbot` as a real process, the way operators and users do."""
from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

_SCRIPT = Path(sys.executable).parent / "partnerbot"


def partnerbot_argv(*args: str) -> list[str]:
    """The installed console script when there is one, else the same entry point via -m."""
    if _SCRIPT.exists():
        return [str(_SCRIPT), *args]
    return [sys.executable, "-m", "bot.cli", *args]


def clean_env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("PARTNERBOT_", "SLACK_", "MICROSOFT_")) and k not in ("DATABASE_URL", "PORT", "HOST")}
    return {**keep, "PYTHONUNBUFFERED": "1", **extra}


async def start(*args: str, cwd: Path, env: dict[str, str], stdin=asyncio.subprocess.DEVNULL) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *partnerbot_argv(*args), cwd=cwd, env=env, stdin=stdin,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )


async def read_until(process: asyncio.subprocess.Process, pattern: str, timeout: float = 20.0) -> tuple[re.Match, str]:
    """Read the process's output until a line matches; returns the match and all text read."""
    seen: list[str] = []
    regex = re.compile(pattern)

    async def scan():
        while True:
            line = await process.stdout.readline()
            if not line:
                raise AssertionError(f"process ended before printing {pattern!r}:\n{''.join(seen)}")
            text = line.decode(errors="replace")
            seen.append(text)
            if m := regex.search(text):
                return m

    try:
        match = await asyncio.wait_for(scan(), timeout)
    except TimeoutError:
        raise AssertionError(f"no {pattern!r} within {timeout}s:\n{''.join(seen)}") from None
    return match, "".join(seen)


async def serve(cwd: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str, str]:
    """A running `partnerbot serve`: the process, its URL, and what it printed while starting."""
    process = await start("serve", cwd=cwd, env={**env, "HOST": "127.0.0.1", "PORT": "0"})
    match, seen = await read_until(process, r"Partnerbot listening on (http://\S+)")
    return process, match.group(1), seen


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.wait()
