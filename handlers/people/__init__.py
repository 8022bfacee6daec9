"""People: their own timezone, and one person on Slack and Teams (`link`)."""
from handlers.people import link, verbs

VERBS = [*verbs.VERBS, *link.VERBS]
JOBS = []

__all__ = ["JOBS", "VERBS"]
