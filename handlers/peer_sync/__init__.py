"""The weekly peer sync (S-n) between a partnership's two managers: prompt, answers, digest."""
from handlers.peer_sync.jobs import JOBS
from handlers.peer_sync.service import follow_timezone
from handlers.peer_sync.verbs import VERBS

TIMEZONE_FOLLOWERS = [follow_timezone]  # a manager's weekly prompt moves with their clock

__all__ = ["JOBS", "TIMEZONE_FOLLOWERS", "VERBS"]
