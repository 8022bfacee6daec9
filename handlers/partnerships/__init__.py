"""Partnerships (P-n): two sides, their managers and reps, goals, bound channels and charter;
and every rule of who may do what (policy.py)."""
from handlers.partnerships.verbs import VERBS

JOBS = []

__all__ = ["JOBS", "VERBS"]
