"""A fake HubSpot CRM API on loopback (point HUBSPOT_API_URL at it): the CRM v3 objects the
HubSpot adapter writes (companies, deals, tasks, notes), their search, owners by email and deal
properties, each call recorded. It checks the bearer token, and can answer the next matching
call with an error (a 429, a validation error), or make the object and then fail (the answer
lost on the way back, as a crash after the CRM wrote it looks from our side). Deal splits (the
batch upsert) answer 403 unless `splits_enabled`, and are refused unless they add up to 1.0 and
include the deal's owner, as HubSpot's are."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Failure:
    method: str
    path: str
    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    after_effect: bool = False  # do the work, then answer the failure


@dataclass
class Call:
    method: str
    path: str
    query: dict
    body: dict | None


class FakeHubSpot:
    def __init__(self, token: str = "pat-test", owners: dict[str, str] | None = None, *, splits_enabled: bool = False):
        self.token = token
        self.splits_enabled = splits_enabled
        self.splits: dict[str, list[dict]] = {}  # deal id -> its splits (ownerId, percentage)
        self.owners = owners or {}  # email -> owner id
        self.objects: dict[str, dict[str, dict]] = {"companies": {}, "deals": {}, "tasks": {}, "notes": {}}
        self.properties: dict[str, set[str]] = {"deals": set()}
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self._ids = itertools.count(1001)
        self._modified = itertools.count(1_796_000_000_000, 1000)  # hs_lastmodifieddate, ms: one second apart

    def edit(self, kind: str, object_id: str, **properties: str) -> None:
        """Someone changes a record in HubSpot itself."""
        self.objects[kind][object_id]["properties"].update(properties, hs_lastmodifieddate=str(next(self._modified)))

    def fail_next(self, method: str, path: str, status: int, message: str = "", *, headers: dict | None = None,
                  after_effect: bool = False, category: str = "VALIDATION_ERROR") -> None:
        self.failures.append(Failure(method, path, status, {"status": "error", "message": message,
                                                                  "category": category}, headers or {}, after_effect))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/crm/v3/owners/", self._owners)
        app.router.add_get("/crm/v3/owners", self._owners)
        app.router.add_post("/crm/v3/properties/{kind}", self._property)
        app.router.add_post("/crm/v3/objects/deals/splits/batch/upsert", self._upsert_splits)
        app.router.add_post("/crm/v3/objects/{kind}/search", self._search)
        app.router.add_post("/crm/v3/objects/{kind}", self._create)
        app.router.add_patch("/crm/v3/objects/{kind}/{id}", self._update)
        return app

    # --- what tests read -------------------------------------------------------------------------
    def made(self, kind: str) -> list[dict]:
        return list(self.objects[kind].values())

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every create and update, in order."""
        return [(c.method, c.path) for c in self.calls if c.method in ("POST", "PATCH") and not c.path.endswith("/search")
                and "/properties/" not in c.path]

    # --- the API -----------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.json() if request.can_read_body else None
        self.calls.append(Call(request.method, request.path, dict(request.query), body))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"status": "error", "message": "Authentication credentials not found.",
                                      "category": "INVALID_AUTHENTICATION"}, status=401)
        failure = next((f for f in self.failures if (f.method, f.path) == (request.method, request.path)), None)
        if failure is not None:
            self.failures.remove(failure)
            if failure.after_effect:
                await handler(request)
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        return await handler(request)

    async def _owners(self, request: web.Request) -> web.Response:
        email = request.query.get("email")
        found = [{"id": owner_id, "email": e, "type": "PERSON", "createdAt": NOW, "updatedAt": NOW, "archived": False}
                 for e, owner_id in self.owners.items() if email in (None, e)]
        return web.json_response({"results": found})

    async def _property(self, request: web.Request) -> web.Response:
        kind, body = request.match_info["kind"], await request.json()
        if body["name"] in self.properties.setdefault(kind, set()):
            return web.json_response({"status": "error", "message": f"Property {body['name']} already exists",
                                      "category": "OBJECT_ALREADY_EXISTS"}, status=409)
        self.properties[kind].add(body["name"])
        return web.json_response({**body, "createdAt": NOW, "updatedAt": NOW}, status=201)

    async def _upsert_splits(self, request: web.Request) -> web.Response:
        if not self.splits_enabled:
            return web.json_response({"status": "error", "message": "This app hasn't been granted all required scopes "
                                      "to make this call.", "category": "MISSING_SCOPES"}, status=403)
        body = await request.json()
        for deal in body["inputs"]:
            found = self.objects["deals"].get(str(deal["id"]))
            owners = {str(split["ownerId"]) for split in deal["splits"]}
            if found is None or abs(sum(split["percentage"] for split in deal["splits"]) - 1) > 1e-8 \
                    or found["properties"].get("hubspot_owner_id") not in owners:
                return web.json_response({"status": "error", "category": "VALIDATION_ERROR", "message":
                                          "Deal split percentages must add up to 1.0 and include the deal owner"},
                                         status=400)
        for deal in body["inputs"]:  # replaced whole
            self.splits[str(deal["id"])] = [{"ownerId": str(s["ownerId"]), "percentage": s["percentage"]}
                                            for s in deal["splits"]]
        return web.json_response({"status": "COMPLETE", "results": [
            {"id": str(deal["id"]), "splits": self.splits[str(deal["id"])]} for deal in body["inputs"]]})

    async def _search(self, request: web.Request) -> web.Response:
        kind, body = request.match_info["kind"], await request.json()
        [group] = body["filterGroups"]
        found = [o for o in self.objects[kind].values() if all(_matches(o["properties"], f) for f in group["filters"])]
        for prop in reversed(body.get("sorts") or []):
            found.sort(key=lambda o, p=prop: int(o["properties"].get(p) or 0))
        start = int(body.get("after") or 0)
        page = found[start:start + (body.get("limit") or 10)]
        more = start + len(page) < len(found)
        return web.json_response({"total": len(found), "results": [self._public(o) for o in page],
                                  **({"paging": {"next": {"after": str(start + len(page))}}} if more else {})})

    async def _create(self, request: web.Request) -> web.Response:
        kind, body = request.match_info["kind"], await request.json()
        if kind == "deals" and "partnerbot_ref" in body["properties"] and "partnerbot_ref" not in self.properties["deals"]:
            return web.json_response({"status": "error", "message": "Property \"partnerbot_ref\" does not exist",
                                      "category": "VALIDATION_ERROR"}, status=400)
        made = {"id": str(next(self._ids)),
                "properties": {**body["properties"], "hs_lastmodifieddate": str(next(self._modified))},
                "associations": [(a["to"]["id"], a["types"][0]["associationTypeId"]) for a in body.get("associations")
                                 or ()]}
        self.objects[kind][made["id"]] = made
        return web.json_response(self._public(made), status=201)

    async def _update(self, request: web.Request) -> web.Response:
        kind, object_id, body = request.match_info["kind"], request.match_info["id"], await request.json()
        found = self.objects[kind].get(object_id)
        if found is None:
            return web.json_response({"status": "error", "message": "Object not found", "category": "OBJECT_NOT_FOUND"},
                                     status=404)
        found["properties"].update(body["properties"], hs_lastmodifieddate=str(next(self._modified)))
        return web.json_response(self._public(found))

    @staticmethod
    def _public(o: dict) -> dict:
        return {"id": o["id"], "properties": o["properties"], "createdAt": NOW, "updatedAt": NOW, "archived": False}


def _matches(properties: dict, f: dict) -> bool:
    value = properties.get(f["propertyName"])
    if f["operator"] == "HAS_PROPERTY":
        return value not in (None, "")
    if f["operator"] == "GT":
        return value is not None and int(value) > int(f["value"])
    return value == f["value"]  # EQ
