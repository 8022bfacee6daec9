"""Wins: a won handoff or lead, its credit split between everyone who made it, celebrated once."""
from handlers.wins.verbs import VERBS

JOBS = []

__all__ = ["JOBS", "VERBS"]
