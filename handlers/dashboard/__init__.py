"""Dashboard: `dashboard` signs the caller in to the web pages under /app/ with a one-time link;
`dashboard signout` ends every browser session of theirs. The tick forgets links and sessions a
day after they stopped working."""
from handlers.dashboard.jobs import JOBS
from handlers.dashboard.verbs import VERBS

__all__ = ["JOBS", "VERBS"]
