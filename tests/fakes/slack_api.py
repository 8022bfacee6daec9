"""A fake Slack Web API on loopback: records every call, answers like Slack, can throttle.

Point SLACK_API_URL (or AsyncWebClient(base_url=…)) at `fake.url`.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.loopback import LoopbackServer


@dataclass
class Call:
    method: str
    args: dict
    at: float = field(default_factory=time.monotonic)


class FakeSlackApi(LoopbackServer):
    def __init__(self, *, team_id: str = "T1", timezones: dict[str, str] | None = None,
                 names: dict[str, str] | None = None):
        super().__init__()
        self.team_id = team_id
        self.timezones = dict(timezones or {})  # user id -> IANA tz served by users.info
        self.names = dict(names or {})  # user id -> display name served by users.info (profile)
        self.calls: list[Call] = []
        self.throttle_remaining = 0  # answer this many next calls with 429 (auth.test is never throttled)
        self.fail_next: list[tuple[int, str]] = []  # (HTTP status, Slack error) for the next calls
        self.retry_after = 1
        self.delay = 0.0  # seconds every answer takes (a send in flight)
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> "FakeSlackApi":
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)  # users.info is a GET
        await self.serve(app)
        self.url = f"http://127.0.0.1:{self.port}/api/"
        return self

    # -- queries for tests -------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        return await self.wait_until(lambda: self.calls_to(method), count, timeout, f"call(s) to {method}")

    # -- the API -----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = await request.text()
        args: dict = dict(request.query)  # slack_sdk sends some arguments as query parameters
        if request.content_type == "application/json":
            args.update(json.loads(raw or "{}"))
        else:
            args.update(parse_qsl(raw))
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        if self.fail_next and method != "auth.test":
            status, error = self.fail_next.pop(0)
            self.calls.append(Call(f"{method}#{error}", args))
            self.changed.set()
            return web.json_response({"ok": False, "error": error}, status=status)
        if self.throttle_remaining > 0 and method != "auth.test":
            self.throttle_remaining -= 1
            self.calls.append(Call(f"{method}#429", args))
            self.changed.set()
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(self.retry_after)})
        self.calls.append(Call(method, args))
        self.changed.set()
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": "UBOT", "bot_id": "BBOT",
                    "user": "partnerbot", "team": "Test team", "url": "https://test.slack.com/"}
        if method == "users.info":
            user = args.get("user")
            found = {"id": user, "name": user, "tz": self.timezones.get(user, "UTC")}
            if user in self.names:  # as Slack has it: the handle in `name`, what people see in the profile
                found.update(real_name=self.names[user],
                             profile={"display_name": self.names[user], "real_name": self.names[user]})
            return {"ok": True, "user": found}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args.get('users')}"}}
        if method in ("chat.postMessage", "chat.update"):
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts") or f"{next(self._ts)}.000100"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{next(self._ts)}.000200"}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1"}}
        if method == "views.open":
            view = args.get("view") if isinstance(args.get("view"), dict) else {}
            return {"ok": True, "view": {**view, "id": f"V{next(self._views)}"}}
        return {"ok": False, "error": "unknown_method"}
