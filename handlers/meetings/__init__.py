"""Community-of-practice meetings (M-n): weekly series, start posts, action items, summaries."""
from handlers.meetings.jobs import JOBS
from handlers.meetings.service import follow_timezone
from handlers.meetings.verbs import VERBS

TIMEZONE_FOLLOWERS = [follow_timezone]  # a series starts at its organiser's time, on their clock

__all__ = ["JOBS", "TIMEZONE_FOLLOWERS", "VERBS"]
