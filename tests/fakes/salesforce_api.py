"""A fake Salesforce REST API on loopback, over HTTPS (simple-salesforce speaks nothing else) with a
certificate from a throwaway authority (trustme) that the tests trust through REQUESTS_CA_BUNDLE.
It answers the SOQL the Salesforce adapter sends (equality, !=, > and AND; ORDER BY; LIMIT), and
creates and updates sObjects, recording every call. It checks the bearer token, and can answer
the next matching call with an error, or make the record and then fail. Its SOAP login hands out
a new session for the integration user's username and password + security token, and
`expire_session` ends the current one. With Opportunity Splits turned on (`splits_enabled`) a new
Opportunity gets its owner's 100% revenue split, and a composite request changes splits
all-or-none, refused unless each Opportunity's revenue splits add up to 100% and are owned by its
owner or team members (as Salesforce checks them when the transaction commits)."""
from __future__ import annotations

import copy
import itertools
import re
import secrets
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import trustme
from aiohttp import web

API = "/services/data/v59.0"
REVENUE = "1490REVENUE"  # the revenue split type's id
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
    def __init__(self, token: str = "00D-test", users: dict[str, str] | None = None, *,
                 login: tuple[str, str] | None = None, splits_enabled: bool = False):
        self.token = token
        self.users = users or {}  # email -> User id
        self.login = login  # (username, password + security token) the SOAP login accepts
        self.logins = 0
        self.splits_enabled = splits_enabled
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

    def expire_session(self) -> None:
        self.token = "expired-" + secrets.token_hex(4)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/services/Soap/u/{version}", self._soap_login)
        app.router.add_post(API + "/composite", self._composite)
        app.router.add_get(API + "/query/", self._query)
        app.router.add_post(API + "/sobjects/{kind}/", self._create)
        app.router.add_patch(API + "/sobjects/{kind}/{id}", self._update)
        return app

    # --- the API -----------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        if "/Soap/" in request.path:
            return await handler(request)
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
        if kind.startswith("OpportunitySplit") and not self.splits_enabled:
            return web.json_response([{"message": f"sObject type '{kind}' is not supported.",
                                       "errorCode": "INVALID_TYPE"}], status=400)
        rows = (self._users() if kind == "User" else
                [{"Id": REVENUE, "IsActive": True, "SplitField": "Amount"}] if kind == "OpportunitySplitType" else
                list(self.records.get(kind, {}).values()))
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
        record_id = self._make(kind, body)
        if kind == "Opportunity" and self.splits_enabled and body.get("OwnerId"):
            self._make("OpportunitySplit", {"OpportunityId": record_id, "SplitOwnerId": body["OwnerId"],
                                            "SplitTypeId": REVENUE, "SplitPercentage": 100.0})
        return web.json_response({"id": record_id, "success": True, "errors": []}, status=201)

    def _make(self, kind: str, body: dict) -> str:
        record_id = f"{kind[:3]}{next(self._ids):012d}"
        self.records.setdefault(kind, {})[record_id] = {"Id": record_id, **body, "SystemModstamp": self._stamp()}
        return record_id

    async def _composite(self, request: web.Request) -> web.Response:
        """Composite subrequests on OpportunitySplit, in one transaction (allOrNone)."""
        body = await request.json()
        assert body["allOrNone"] is True
        before = copy.deepcopy(self.records)
        answers = []
        for sub in body["compositeRequest"]:
            kind, _, record_id = sub["url"].removeprefix(API + "/sobjects/").partition("/")
            assert kind == "OpportunitySplit", sub
            if sub["method"] == "POST":
                answers.append((201, {"id": self._make(kind, sub["body"]), "success": True, "errors": []}))
            elif sub["method"] == "PATCH":
                self.records[kind][record_id].update(sub["body"], SystemModstamp=self._stamp())
                answers.append((204, None))
            else:
                del self.records[kind][record_id]
                answers.append((204, None))
        problem = self._split_problem()
        if problem:
            self.records = before
            answers = [(400, [{"errorCode": "FIELD_INTEGRITY_EXCEPTION", "message": problem}])] + [
                (400, [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back"}])] * (
                len(answers) - 1)
        return web.json_response({"compositeResponse": [
            {"body": answer, "httpHeaders": {}, "httpStatusCode": status, "referenceId": sub["referenceId"]}
            for (status, answer), sub in zip(answers, body["compositeRequest"], strict=True)]})

    def _split_problem(self) -> str | None:
        team = {(m["OpportunityId"], m["UserId"]) for m in self.made("OpportunityTeamMember")}
        totals: dict[str, float] = {}
        for split in self.made("OpportunitySplit"):
            opp = self.records["Opportunity"][split["OpportunityId"]]
            if split["SplitOwnerId"] != opp.get("OwnerId") and (opp["Id"], split["SplitOwnerId"]) not in team:
                return "The split owner must be an opportunity team member"
            totals[opp["Id"]] = totals.get(opp["Id"], 0) + split["SplitPercentage"]
        wrong = [opp for opp, total in totals.items() if abs(total - 100) > 1e-9]
        return "The total of revenue splits must be 100%" if wrong else None

    async def _soap_login(self, request: web.Request) -> web.Response:
        text = await request.text()
        given = tuple(re.search(f"<n1:{tag}>(.*?)</n1:{tag}>", text, re.S).group(1) for tag in ("username", "password"))
        if self.login is None or given != tuple(escape(v) for v in self.login):
            return web.Response(status=500, content_type="text/xml", text=(
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
                '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body>'
                '<soapenv:Fault><faultcode>INVALID_LOGIN</faultcode><detail><sf:LoginFault>'
                '<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, '
                'security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>'
                '</soapenv:Body></soapenv:Envelope>'))
        self.logins += 1
        self.token = f"00Dlogin!{self.logins}.{secrets.token_hex(8)}"
        host = request.host
        return web.Response(content_type="text/xml", text=(
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
            '"http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body>'
            f'<loginResponse><result><serverUrl>https://{host}/services/Soap/u/59.0/00D000000000001</serverUrl>'
            f'<sessionId>{self.token}</sessionId><userId>005INTEGRATION</userId></result></loginResponse>'
            '</soapenv:Body></soapenv:Envelope>'))

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
