"""A fake Bot Framework connector on loopback: the `serviceUrl` Teams activities point at.

Records what the bot posts (`/v3/conversations/{id}/activities[/{replyToId}]`), updates
(PUT) and 1:1 conversations it creates; answers the roster (`GET /v3/conversations/{id}/members/
{memberId}`, by 29:… id or AAD object id) for the people put in `roster`, 404 for anyone else, as
Teams does for someone not in the conversation; can answer with an error status for a while
(`fail_next`: Teams asks bots to back off on 412, 429, 502 and 504), recording each refusal
with its time in `refused`.
"""
from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

BOT = {"id": "28:partnerbot", "name": "Partnerbot"}
TENANT = "tenant-1"


@dataclass
class Posted:
    method: str
    conversation: str
    reply_to: str | None
    activity: dict
    at: float = field(default_factory=time.monotonic)
    id: str | None = None  # the id the connector gave a new activity (a card button's replyToId); None for a PUT

    @property
    def card(self) -> dict:
        return self.activity["attachments"][0]["content"]

    @property
    def fallback(self) -> str:
        return self.card.get("fallbackText", "")

    @property
    def submits(self) -> list[tuple[str, str]]:
        return [(a["title"], a["data"]["command"]) for a in self.card.get("actions", [])]


@dataclass
class Refused:
    status: int
    conversation: str
    at: float = field(default_factory=time.monotonic)


class FakeConnector(LoopbackServer):
    def __init__(self):
        super().__init__()
        self.posted: list[Posted] = []
        self.created: list[dict] = []
        self.fail_next: list[tuple[int, dict]] = []  # (status, headers)
        self.refused: list[Refused] = []  # the activities answered from fail_next, in order
        self._ids = itertools.count(1)
        self.url = ""
        self.roster: list[dict] = []  # the members the roster knows (person() accounts, with an email)
        self.roster_asked: list[tuple[str, str]] = []  # (conversation, member id) of each roster request

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._activity)
        app.router.add_put("/v3/conversations/{conversation}/activities/{reply_to}", self._activity)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        await self.serve(app)
        self.url = f"http://127.0.0.1:{self.port}/"
        return self

    def to(self, conversation: str) -> list[Posted]:
        return [p for p in self.posted if p.conversation == conversation]

    async def wait_for(self, conversation: str, count: int = 1, timeout: float = 10.0) -> list[Posted]:
        return await self.wait_until(lambda: self.to(conversation), count, timeout, f"activities in {conversation}")

    async def _activity(self, request: web.Request) -> web.Response:
        if self.fail_next:
            status, headers = self.fail_next.pop(0)
            self.refused.append(Refused(status, request.match_info["conversation"]))
            self.changed.set()
            return web.json_response({"error": {"code": "Throttled"}}, status=status, headers=headers)
        activity_id = f"activity-{next(self._ids)}"
        self.posted.append(Posted(request.method, request.match_info["conversation"],
                                  request.match_info.get("reply_to"), await request.json(),
                                  id=activity_id if request.method == "POST" else None))
        self.changed.set()
        return web.json_response({"id": activity_id})

    def add_to_roster(self, *people: dict) -> None:
        """Put people (person() accounts) in the roster, as Teams' own would show them."""
        for account in people:
            self.roster.append({**account, "email": f"{account['name'].split()[0].lower()}@example.com",
                                "userPrincipalName": f"{account['name'].split()[0].lower()}@example.com",
                                "tenantId": TENANT, "userRole": "user"})

    async def _member(self, request: web.Request) -> web.Response:
        wanted = request.match_info["member"]
        self.roster_asked.append((request.match_info["conversation"], wanted))
        self.changed.set()
        for member in self.roster:
            if wanted in (member["id"], member["aadObjectId"]):
                return web.json_response(member)
        return web.json_response({"error": {"code": "MemberNotFoundInConversation",
                                            "message": "The member is not in the conversation"}}, status=404)

    async def _create(self, request: web.Request) -> web.Response:
        parameters = await request.json()
        self.created.append(parameters)
        member = parameters["members"][0]["id"]
        return web.json_response({"id": f"a:personal-{member}", "activityId": f"activity-{next(self._ids)}"})


def person(aad: str, name: str) -> dict:
    """A Teams user as `from` names them: the 29:… user id, the name and the AAD object id."""
    return {"id": f"29:{aad}", "name": name, "aadObjectId": aad}


def message(text: str | None, *, sender: dict, service_url: str, conversation: str | None = None,
            channel: bool = False, entities: list | None = None, value: dict | None = None,
            reply_to: str | None = None, local_timezone: str | None = None, thread: str | None = None) -> dict:
    """A Teams message activity as the Bot Framework service posts it to /api/messages.

    In a channel, `thread` is the id of the post the message is in: Teams then names the
    conversation `<channel id>;messageid=<thread>` and gives the channel's own id in channelData."""
    conversation = conversation or ("19:channel@thread.tacv2" if channel else f"a:personal-{sender['aadObjectId']}")
    channel_data: dict = {"tenant": {"id": TENANT}}
    if channel:
        channel_data.update(channel={"id": conversation}, team={"id": "19:team@thread.tacv2"})
        if thread:
            conversation = f"{conversation};messageid={thread}"
    activity = {
        "type": "message", "id": str(uuid.uuid4().int)[:13], "timestamp": "2026-11-23T10:00:00.000Z",
        "serviceUrl": service_url, "channelId": "msteams", "from": sender, "recipient": BOT,
        "conversation": {"id": conversation, "tenantId": TENANT, "isGroup": channel,
                         "conversationType": "channel" if channel else "personal"},
        "channelData": channel_data, "locale": "en-US", "entities": entities or [],
    }
    if text is not None:
        activity["text"] = text
    if value is not None:
        activity["value"] = value
    if reply_to:
        activity["replyToId"] = reply_to
    if local_timezone:
        activity["localTimezone"] = local_timezone
    return activity


def mention(account: dict) -> dict:
    """A mention of `account` as Teams sends it: its 29:… id and name, no AAD object id."""
    return {"type": "mention", "text": f"<at>{account['name']}</at>",
            "mentioned": {"id": account["id"], "name": account["name"]}}
