"""The platform-neutral logic: what Partnerbot does, whatever the platform.

`kernel/` is the framework every capability builds on: the neutral model (Command, Reply,
Card, Form), the dispatcher and the tick's runner, the registry of verbs and jobs, the
grammar, dates and schedule rules. Every other package is one capability, holding its verbs,
its scheduled jobs, its service (what other capabilities may call) and its messages.

CAPABILITIES is the one list of them: each exports VERBS and JOBS (and TIMEZONE_FOLLOWERS when
something of it runs on a person's clock). Their order is the order of `help` and of a tick.
"""
from __future__ import annotations

from functools import lru_cache

from handlers import (
    asks,
    commitments,
    crm,
    dashboard,
    handoffs,
    leads,
    meetings,
    partnerships,
    peer_sync,
    people,
    pulse,
    reports,
    wins,
)
from handlers.kernel import help
from handlers.kernel.registry import Registry

CAPABILITIES = (commitments, handoffs, partnerships, peer_sync, meetings, leads, asks, pulse, wins, reports, people,
                dashboard, crm)


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """Every capability's verbs and jobs, and `help`."""
    return Registry(
        verbs=[*(verb for capability in CAPABILITIES for verb in capability.VERBS), *help.VERBS],
        jobs=[job for capability in CAPABILITIES for job in capability.JOBS],
        timezone_followers=[follow for capability in CAPABILITIES
                            for follow in getattr(capability, "TIMEZONE_FOLLOWERS", ())],
    )
