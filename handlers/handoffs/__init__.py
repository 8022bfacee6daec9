"""Handoffs (H-n): a customer need handed to a partner rep, accepted, moved along its stages."""
from handlers.handoffs.jobs import JOBS
from handlers.handoffs.verbs import VERBS

__all__ = ["JOBS", "VERBS"]
