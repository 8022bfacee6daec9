"""Leads (L-n): brainstorm ideas turned into account leads with an owner and a next activity."""
from handlers.leads.verbs import VERBS

JOBS = []

__all__ = ["JOBS", "VERBS"]
