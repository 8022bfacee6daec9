"""Commitments (C-n): who does what by when, kept on time or late, and their reminders."""
from handlers.commitments.jobs import JOBS
from handlers.commitments.verbs import VERBS

__all__ = ["JOBS", "VERBS"]
