"""A fake Slack Web API on loopback: records every call, answers like Slack, can throttle.

Point SLACK_API_URL (or AsyncWebClient(base_url=…)) at `fake.url`.

Throttling, as Slack does it (HTTP 429, `Retry-After` in whole seconds, body error `ratelimited`):
- `throttle_remaining`: the next N calls of any method but auth.test;
- `throttle_posts(n, retry_after)`: the next N chat.postMessage calls;
- `throttle_posts_for(seconds, retry_after)`: every chat.postMessage for a while;
- `rate_per_second`: a rate limit on chat.postMessage (a token bucket holding one second's
  worth): beyond it, 429 with the whole seconds until the next free slot.
A throttled call is recorded as `<method>#429`; `posts()` are the accepted chat.postMessage calls.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import Counter
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
        self.admins: set[str] = set()  # user ids users.info says are workspace admins (is_admin)
        self.emails: dict[str, str] = {}  # user id -> profile.email, as users.info gives it with users:read.email
        self.calls: list[Call] = []  # answered requests, recorded once answered (after any delay)
        self.arrivals: list[str] = []  # the method of every request, recorded the moment it arrives
        self.throttle_remaining = 0  # answer this many next calls with 429 (auth.test is never throttled)
        self.fail_next: list[tuple[int, str]] = []  # (HTTP status, Slack error) for the next calls
        self.retry_after = 1
        self.delay = 0.0  # seconds every answer takes (a send in flight)
        self.posts_to_throttle = 0  # answer this many next chat.postMessage calls with 429
        self.throttle_posts_until = 0.0  # time.monotonic(): answer chat.postMessage with 429 until then
        self.post_retry_after = 1  # the Retry-After of the two above
        self.rate_per_second: float | None = None  # chat.postMessage rate limit; None: unlimited
        self._tokens = 0.0
        self._tokens_at = 0.0
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> FakeSlackApi:
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

    def posts(self) -> list[Call]:
        """The chat.postMessage calls Slack accepted, in order of arrival."""
        return self.calls_to("chat.postMessage")

    def throttled_posts(self) -> list[Call]:
        return self.calls_to("chat.postMessage#429")

    def duplicate_posts(self) -> dict[tuple[str, str], int]:
        """(channel, text) posted more than once, with how often."""
        seen = Counter((c.args.get("channel"), c.args.get("text")) for c in self.posts())
        return {post: n for post, n in seen.items() if n > 1}

    # -- throttling ----------------------------------------------------------------------------
    def throttle_posts(self, count: int, retry_after: int = 1) -> None:
        self.posts_to_throttle, self.post_retry_after = count, retry_after

    def throttle_posts_for(self, seconds: float, retry_after: int = 1) -> None:
        self.throttle_posts_until, self.post_retry_after = time.monotonic() + seconds, retry_after

    def _post_throttled(self) -> int | None:
        """The Retry-After to answer this chat.postMessage with, or None to accept it."""
        if self.posts_to_throttle > 0:
            self.posts_to_throttle -= 1
            return self.post_retry_after
        if time.monotonic() < self.throttle_posts_until:
            return self.post_retry_after
        if self.rate_per_second:
            now = time.monotonic()
            if not self._tokens_at:
                self._tokens, self._tokens_at = self.rate_per_second, now
            self._tokens = min(self.rate_per_second, self._tokens + (now - self._tokens_at) * self.rate_per_second)
            self._tokens_at = now
            if self._tokens < 1:
                return max(1, math.ceil((1 - self._tokens) / self.rate_per_second))  # whole seconds, like Slack
            self._tokens -= 1
        return None

    # -- the API -----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.arrivals.append(method)
        self.changed.set()
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
        if method == "chat.postMessage" and (retry_after := self._post_throttled()) is not None:
            self.calls.append(Call(f"{method}#429", args))
            self.changed.set()
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})
        self.calls.append(Call(method, args))
        self.changed.set()
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": "UBOT", "bot_id": "BBOT",
                    "user": "partnerbot", "team": "Test team", "url": "https://test.slack.com/"}
        if method == "users.info":
            user = args.get("user")
            found = {"id": user, "name": user, "tz": self.timezones.get(user, "UTC"),
                     "is_admin": user in self.admins, "is_owner": False}
            if user in self.names:  # as Slack has it: the handle in `name`, what people see in the profile
                found.update(real_name=self.names[user],
                             profile={"display_name": self.names[user], "real_name": self.names[user]})
            if user in self.emails:
                found.setdefault("profile", {})["email"] = self.emails[user]
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
