"""Retention: the tick forgets what only served for a while, a page at a time (every process may
run it: each delete re-checks the row is still due, so two at once forget each row once).

- platform delivery ids (retries of Slack and Teams deliveries come within minutes) after
  `retention.processed_delivery_days`;
- link codes once expired, wrong link codes once out of the rate limit's hour;
- link requests nobody answered, once lapsed: the requester is told nothing was joined.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers.kernel.context import JobContext
from handlers.kernel.outbound import to_person
from handlers.kernel.registry import Job, pruning_job
from handlers.people.link import WRONG_CODE_WINDOW
from handlers.people.link_messages import lapsed_to_requester
from storage.store import Store


def _delivery_cutoff(cad: JobContext) -> datetime:
    return cad.now - timedelta(days=cad.settings.retention.processed_delivery_days)


async def _lapsed_requests(cad: JobContext, after) -> list:
    return await cad.store.expired_link_requests(cad.now, after)


async def _lapse(cad: JobContext, request_id: int) -> bool:
    """Forget a request its issuer did not answer in time, and tell whoever made it."""
    request = await cad.store.take_expired_link_request(request_id, cad.now)
    if request is None:
        return False
    requester = await cad.store.get_person(request.requester_id)
    await cad.log("person.link_lapsed", f"person:{request.issuer_id}",
                  after={"request": request.id, "requester_id": requester.id}, workspace_id=request.workspace_id)
    await to_person(cad.store, workspace_id=request.workspace_id, person=requester, kind="link.lapsed",
                    record=f"link:{request.id}", period="-", reply=lapsed_to_requester(), now=cad.now,
                    prefer_platform=request.platform)
    return True


JOBS = [
    Job("lapsed link requests", find=_lapsed_requests, run=_lapse),
    pruning_job("expired link codes", lambda cad: cad.now, Store.expired_link_codes, Store.forget_link_codes),
    pruning_job("old wrong link codes", lambda cad: cad.now - WRONG_CODE_WINDOW,
             Store.old_link_attempts, Store.forget_link_attempts),
    pruning_job("old delivery ids", _delivery_cutoff, Store.old_deliveries, Store.forget_deliveries),
]
