"""A fake Slack Web API on loopback: records every call, answers like Slack, can throttle.

Point SLACK_API_URL (or AsyncWebClient(base_url=…)) at `fake.url`.

Throttling, as Slack does it (HTTP 429, `Retry-After` in whole seconds, body error `ratelimited`):
- `throttle_remaining`: the next N calls of any method but auth.test;
- `throttle_posts(n, retry_after)`: the next N chat.postMessage calls;
- `throttle_posts_for(seconds, retry_after)`: every chat.postMessage for a while;
- `throttle_posts_to(channels, seconds, retry_after)`: every chat.postMessage into `channels`
  for a while (one workspace's DMs: Slack's limits are per workspace), the others served;
- `rate_per_second`: a rate limit on chat.postMessage (a token bucket holding one second's
  worth): beyond it, 429 with the whole seconds until the next free slot.
A throttled call is recorded as `<method>#429`; `posts()` are the accepted chat.postMessage calls.

Installing (OAuth v2): GET /oauth/v2/authorize (Slack's authorize page, as if the person clicked
"Allow") redirects to its redirect_uri with a new code and the state, for the workspace its
`team` parameter names (else the next of T1, T2…); `code_for()` makes one directly. oauth.v2.access
trades each code once for a bot token of its own (xoxb-<team>-<n>), and auth.test answers per
token with its workspace. Every call records the token it came with (`Call.token`).

Token rotation (`token_rotation = True`, as the app setting): a code traded meanwhile gives an
expiring access token (xoxe.xoxb-…, good for `expires_in` seconds, then `token_expired`) and a
refresh token (xoxe-1-…). oauth.v2.access with grant_type=refresh_token trades a refresh token
once (again: `invalid_refresh_token`) for a new pair; the old access token keeps working until
its own expiry, as at Slack. `refreshes()` are those trades.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from tests.fakes.loopback import LoopbackServer


@dataclass
class Call:
    method: str
    args: dict
    at: float = field(default_factory=time.monotonic)
    token: str | None = None  # the bearer token it was sent with (None: none, or client id and secret)


@dataclass
class Grant:
    """What one OAuth code installs: a workspace, or an Enterprise Grid org (org-wide: no team)."""
    team: str | None
    user: str = "UADMIN"
    enterprise: str | None = None
    is_enterprise_install: bool = False
    used: bool = False


class FakeSlackApi(LoopbackServer):
    def __init__(self, *, team_id: str = "T1", timezones: dict[str, str] | None = None,
                 names: dict[str, str] | None = None):
        super().__init__()
        self.team_id = team_id
        self.timezones = dict(timezones or {})  # user id -> IANA tz served by users.info
        self.names = dict(names or {})  # user id -> display name served by users.info (profile)
        self.admins: set[str] = set()  # user ids users.info says are workspace admins (is_admin)
        self.emails: dict[str, str] = {}  # user id -> profile.email, as users.info gives it with users:read.email
        # user id -> their home workspace, as users.info gives it (`team_id`): Slack Connect, where
        # the people of a shared channel come from two or more workspaces
        self.user_teams: dict[str, str] = {}
        self.calls: list[Call] = []  # answered requests, recorded once answered (after any delay)
        self.arrivals: list[str] = []  # the method of every request, recorded the moment it arrives
        self.throttle_remaining = 0  # answer this many next calls with 429 (auth.test is never throttled)
        self.fail_next: list[tuple[int, str]] = []  # (HTTP status, Slack error) for the next calls
        self.retry_after = 1
        self.delay = 0.0  # seconds every answer takes (a send in flight)
        self.delays: dict[str, float] = {}  # method -> seconds its answers take (instead of `delay`)
        self.posts_to_throttle = 0  # answer this many next chat.postMessage calls with 429
        self.throttle_posts_until = 0.0  # time.monotonic(): answer chat.postMessage with 429 until then
        self.post_retry_after = 1  # the Retry-After of the two above
        self.rate_per_second: float | None = None  # chat.postMessage rate limit; None: unlimited
        self.channels_throttled: tuple[set[str], float, int] = (set(), 0.0, 1)  # throttle_posts_to's
        self._tokens = 0.0
        self._tokens_at = 0.0
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self.url = ""
        self.grants: dict[str, Grant] = {}  # OAuth code -> what it installs
        self.token_teams: dict[str, tuple[str | None, str | None]] = {}  # bot token -> (team, enterprise)
        self.revoked: set[str] = set()  # tokens auth.test and every method answer invalid_auth
        self.token_rotation = False  # the app setting: codes traded while on give expiring tokens
        self.expires_in = 43200  # seconds an expiring access token lives (Slack: 12 hours)
        self.expires_at: dict[str, float] = {}  # expiring access token -> time.time() it stops working
        self.refresh_tokens: dict[str, str] = {}  # unused refresh token -> the access token it came with
        self._codes = itertools.count(1)
        self._teams = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)  # users.info is a GET
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        app.router.add_post("/response_url/{id}", self._response_url)
        await self.serve(app)
        self.url = f"http://127.0.0.1:{self.port}/api/"
        return self

    # -- installing ------------------------------------------------------------------------------
    def code_for(self, team: str | None, *, user: str = "UADMIN", enterprise: str | None = None,
                 is_enterprise_install: bool = False) -> str:
        code = f"code-{next(self._codes)}"
        self.grants[code] = Grant(team, user, enterprise, is_enterprise_install)
        return code

    def tokens_of(self, team: str) -> list[str]:
        """The bot tokens oauth.v2.access gave for `team`, oldest first."""
        return [token for token, (t, _e) in self.token_teams.items() if t == team]

    async def _authorize(self, request: web.Request) -> web.Response:
        """Slack's authorize page, the person having clicked "Allow": back to the app with a code."""
        query = request.query
        team = query.get("team") or f"T{next(self._teams)}"
        code = self.code_for(team)
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return web.Response(status=302, headers={"Location": target})

    def response_url(self, name: str = "1") -> str:
        """A slash command's response_url served here: what is posted to it is recorded as `response_url`."""
        return f"{self.url.removesuffix('/api/')}/response_url/{name}"

    async def _response_url(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json()))
        self.changed.set()
        return web.Response(text="ok")

    def refreshes(self) -> list[Call]:
        """The oauth.v2.access calls that traded a refresh token (Slack's answer or not)."""
        return [c for c in self.calls if c.method.startswith("oauth.v2.access")
                and c.args.get("grant_type") == "refresh_token"]

    def _expiring(self, answer: dict) -> dict:
        """`answer` (a bot token granted) as token rotation has it: the token expires, a refresh token renews it."""
        token = answer["access_token"] = f"xoxe.{answer['access_token']}"
        self.token_teams[token] = self.token_teams.pop(token.removeprefix("xoxe."))
        refresh = f"xoxe-1-{token.removeprefix('xoxe.xoxb-')}"
        self.refresh_tokens[refresh] = token
        self.expires_at[token] = time.time() + self.expires_in
        return {**answer, "refresh_token": refresh, "expires_in": self.expires_in}

    def _refresh(self, args: dict) -> dict:
        old = self.refresh_tokens.pop(args.get("refresh_token", ""), None)
        if old is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        team, enterprise = self.token_teams[old]
        owner = team or enterprise
        token = f"xoxb-{owner}-{len(self.token_teams) + 1}"
        self.token_teams[token] = (team, enterprise)
        return self._expiring({
            "ok": True, "app_id": "A1", "authed_user": {"id": "UADMIN"}, "scope": "commands,chat:write",
            "token_type": "bot", "access_token": token, "bot_user_id": f"UBOT{owner}",
            "team": {"id": team, "name": f"Team {team}"} if team else None,
            "enterprise": {"id": enterprise, "name": "Org"} if enterprise else None,
            "is_enterprise_install": team is None})

    def _access(self, args: dict) -> dict:
        if args.get("grant_type") == "refresh_token":
            return self._refresh(args)
        grant = self.grants.get(args.get("code", ""))
        if grant is None or grant.used:
            return {"ok": False, "error": "invalid_code"}
        grant.used = True
        owner = grant.enterprise if grant.is_enterprise_install else grant.team
        token = f"xoxb-{owner}-{len(self.token_teams) + 1}"
        self.token_teams[token] = (None if grant.is_enterprise_install else grant.team, grant.enterprise)
        answer = {"ok": True, "app_id": "A1", "authed_user": {"id": grant.user}, "scope": "commands,chat:write",
                  "token_type": "bot", "access_token": token, "bot_user_id": f"UBOT{owner}",
                  "team": {"id": grant.team, "name": f"Team {grant.team}"} if grant.team else None,
                  "enterprise": {"id": grant.enterprise, "name": "Org"} if grant.enterprise else None,
                  "is_enterprise_install": grant.is_enterprise_install}
        return self._expiring(answer) if self.token_rotation else answer

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

    def throttle_posts_to(self, channels, seconds: float, retry_after: int = 1) -> None:
        self.channels_throttled = (set(channels), time.monotonic() + seconds, retry_after)

    def _post_throttled(self, channel: str | None = None) -> int | None:
        """The Retry-After to answer this chat.postMessage with, or None to accept it."""
        channels, until, retry_after = self.channels_throttled
        if channel in channels and time.monotonic() < until:
            return retry_after
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
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        self.arrivals.append(method)
        self.changed.set()
        if delay := self.delays.get(method, self.delay):
            await asyncio.sleep(delay)
        raw = await request.text()
        args: dict = dict(request.query)  # slack_sdk sends some arguments as query parameters
        if request.content_type == "application/json":
            args.update(json.loads(raw or "{}"))
        else:
            args.update(parse_qsl(raw))
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        token = token or args.get("token")  # Slack also takes the token as an argument
        if token in self.revoked:
            self.calls.append(Call(f"{method}#invalid_auth", args, token=token))
            self.changed.set()
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if token in self.expires_at and self.expires_at[token] <= time.time():
            self.calls.append(Call(f"{method}#token_expired", args, token=token))
            self.changed.set()
            return web.json_response({"ok": False, "error": "token_expired"})
        if self.fail_next and method != "auth.test":
            status, error = self.fail_next.pop(0)
            self.calls.append(Call(f"{method}#{error}", args, token=token))
            self.changed.set()
            return web.json_response({"ok": False, "error": error}, status=status)
        if self.throttle_remaining > 0 and method != "auth.test":
            self.throttle_remaining -= 1
            self.calls.append(Call(f"{method}#429", args, token=token))
            self.changed.set()
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(self.retry_after)})
        if method == "chat.postMessage" and (retry_after := self._post_throttled(args.get("channel"))) is not None:
            self.calls.append(Call(f"{method}#429", args, token=token))
            self.changed.set()
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})
        self.calls.append(Call(method, args, token=token))
        self.changed.set()
        return web.json_response(self._answer(method, args, token))

    def _answer(self, method: str, args: dict, token: str | None = None) -> dict:
        if method == "oauth.v2.access":
            return self._access(args)
        if method == "auth.test" and token in self.token_teams:
            team, enterprise = self.token_teams[token]
            return {"ok": True, "team_id": team, "enterprise_id": enterprise, "user_id": f"UBOT{team or enterprise}",
                    "bot_id": f"B{team or enterprise}", "user": "partnerbot", "team": f"Team {team}",
                    "url": "https://test.slack.com/", "is_enterprise_install": team is None}
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
            if user in self.user_teams:
                found["team_id"] = self.user_teams[user]
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
