"""Dashboard: `dashboard` signs the caller in to the web pages under /app/ with a one-time link;
`dashboard signout` ends every browser session of theirs."""
from handlers.dashboard.verbs import VERBS

JOBS = []

__all__ = ["JOBS", "VERBS"]
