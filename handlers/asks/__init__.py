"""Asks (Q-n): requests for help, their responses, and the nudge and escalation when none comes."""
from handlers.asks.jobs import JOBS
from handlers.asks.verbs import VERBS

__all__ = ["JOBS", "VERBS"]
