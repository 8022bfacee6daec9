"""The health pulse: every member rates the partnership monthly; results per side, never per person."""
from handlers.pulse.jobs import JOBS
from handlers.pulse.verbs import VERBS

__all__ = ["JOBS", "VERBS"]
