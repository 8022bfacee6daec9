"""People: their own timezone, one person on Slack and Teams (`link`), and their manager (`admin`)."""
from handlers.people import admin, link, retention, verbs

VERBS = [*verbs.VERBS, *link.VERBS, *admin.VERBS]
JOBS = [*retention.JOBS]  # link requests lapse, old link codes and delivery ids are forgotten

__all__ = ["JOBS", "VERBS"]
