"""A fake Salesforce REST API on loopback, over HTTPS (simple-salesforce speaks nothing else) with a
certificate from a throwaway authority (trustme) that the tests trust through REQUESTS_CA_BUNDLE.
It answers the SOQL the Salesforce adapter sends (equality, !=, > and AND; ORDER BY; LIMIT), and
creates and updates sObjects, recording every call. It checks the bearer token, and can answer
the next matching call with an error, or make the record and then fail."""
from __future__ import annotations

import itertools
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import trustme
from aiohttp import web

API = "/services/data/v59.0"
_SOQL = re.compile(r"SELECT (?P<fields>.+?) FROM (?P<kind>\w+)(?: WHERE (?P<where>.+?))?"
                   r"(?: ORDER BY (?P<order>\w+))?(?: LIMIT (?P<limit>\d+))?$")
_CONDITION = re.compile(r"(?P<field>\w+) (?P<op>!=|=|>) (?P<value>'(?:[^'\\]|\\.)*'|\S+)")


@dataclass
class Failure:
    method: str
    path: str
    status: int
    body: list
    after_effect: bool = False


@dataclass
class Call:
    method: str
    path: str
    query: dict
    body: dict | None = field(default=None)


class FakeSalesforce:
    def __init__(self, token: str = "00D-test", users: dict[str, str] | None = None):
        self.token = token
        self.users = users or {}  # email -> User id
        self.records: dict[str, dict[str, dict]] = {}
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self._ids = itertools.count(1)
        self._clock = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        self.authority = trustme.CA()
        self._cert = self.authority.issue_cert("127.0.0.1", "localhost")

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def fail_next(self, method: str, path: str, status: int, error_code: str, message: str, *,
                  after_effect: bool = False) -> None:
        self.failures.append(Failure(method, path, status, [{"message": message, "errorCode": error_code,
                                                             "fields": []}], after_effect))

    def made(self, kind: str) -> list[dict]:
        return list(self.records.get(kind, {}).values())

    def writes(self) -> list[tuple[str, str]]:
        return [(c.method, c.path) for c in self.calls if c.method in ("POST", "PATCH")]

    def edit(self, kind: str, record_id: str, **fields) -> None:
        """Someone changes a record in Salesforce itself."""
        self.records[kind][record_id].update(fields, SystemModstamp=self._stamp())

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(API + "/query/", self._query)
        app.router.add_post(API + "/sobjects/{kind}/", self._create)
        app.router.add_patch(API + "/sobjects/{kind}/{id}", self._update)
        return app

    # --- the API -----------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.json() if request.can_read_body else None
        self.calls.append(Call(request.method, request.path, dict(request.query), body))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                                     status=401)
        failure = next((f for f in self.failures if (f.method, f.path) == (request.method, request.path)), None)
        if failure is not None:
            self.failures.remove(failure)
            if failure.after_effect:
                await handler(request)
            return web.json_response(failure.body, status=failure.status)
        return await handler(request)

    async def _query(self, request: web.Request) -> web.Response:
        m = _SOQL.match(request.query["q"].strip())
        assert m, request.query["q"]
        kind, fields = m.group("kind"), [f.strip() for f in m.group("fields").split(",")]
        rows = self._users() if kind == "User" else list(self.records.get(kind, {}).values())
        for condition in (m.group("where") or "").split(" AND ") if m.group("where") else []:
            c = _CONDITION.fullmatch(condition.strip())
            assert c, condition
            rows = [r for r in rows if _holds(r.get(c.group("field")), c.group("op"), _literal(c.group("value")))]
        if m.group("order"):
            rows.sort(key=lambda r: r.get(m.group("order")) or "")
        if m.group("limit"):
            rows = rows[:int(m.group("limit"))]
        records = [{"attributes": {"type": kind}, **{f: r.get(f) for f in fields}} for r in rows]
        return web.json_response({"totalSize": len(records), "done": True, "records": records})

    async def _create(self, request: web.Request) -> web.Response:
        kind, body = request.match_info["kind"], await request.json()
        if kind == "Opportunity" and not body.get("CloseDate"):
            return web.json_response([{"message": "Required fields are missing: [CloseDate]",
                                       "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["CloseDate"]}], status=400)
        record_id = f"{kind[:3]}{next(self._ids):012d}"
        self.records.setdefault(kind, {})[record_id] = {"Id": record_id, **body, "SystemModstamp": self._stamp()}
        return web.json_response({"id": record_id, "success": True, "errors": []}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        kind, record_id, body = request.match_info["kind"], request.match_info["id"], await request.json()
        found = self.records.get(kind, {}).get(record_id)
        if found is None:
            return web.json_response([{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED"}], status=404)
        found.update(body, SystemModstamp=self._stamp())
        return web.Response(status=204)

    def _users(self) -> list[dict]:
        return [{"Id": user_id, "Email": email, "IsActive": True} for email, user_id in self.users.items()]

    def _stamp(self) -> str:
        self._clock += timedelta(seconds=1)
        return f"{self._clock:%Y-%m-%dT%H:%M:%S}.000+0000"


def _literal(text: str):
    if text.startswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return {"true": True, "false": False, "null": None}.get(text, text)


def _holds(value, op: str, literal) -> bool:
    if op == "=":
        return value == literal
    if op == "!=":
        return value != literal
    # '>': SystemModstamp against a datetime literal (2026-11-23T10:00:05Z)
    stamp = datetime.fromisoformat(str(value).replace("+0000", "+00:00"))
    return stamp > datetime.fromisoformat(str(literal).replace("Z", "+00:00"))
