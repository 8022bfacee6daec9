"""What is measured and shown: `list`, the `report` scorecard with coaching, and `export`."""
from handlers.reports import export, listing, overview_snapshot, scorecard

VERBS = [*listing.VERBS, *scorecard.VERBS, *export.VERBS]
JOBS = [*export.JOBS, *overview_snapshot.JOBS]

__all__ = ["JOBS", "VERBS"]
