"""The tick forgets the dashboard's sign-in links and browser sessions a day after they stopped
working (a link expired; a session expired, or ended by /app/logout or `dashboard signout`).

Why a day and not at once: "why was I logged out?" is asked the next morning, and support can
then still see when that person's session started, when it expired or ended. Links and sessions
are found a page at a time and deleted many at once (kernel.registry.pruning_job).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers.kernel.context import JobContext
from handlers.kernel.registry import pruning_job
from storage.store import Store

# How long a link or a session is kept once it no longer works.
KEPT_AFTER_THE_END = timedelta(days=1)


def _cutoff(cad: JobContext) -> datetime:
    return cad.now - KEPT_AFTER_THE_END


JOBS = [
    pruning_job("old dashboard sign-in links", _cutoff, Store.old_dashboard_sign_ins, Store.forget_dashboard_sign_ins),
    pruning_job("old dashboard sessions", _cutoff, Store.old_dashboard_sessions, Store.forget_dashboard_sessions),
]
