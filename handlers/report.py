"""report: stub, filled in by issue 7."""
from __future__ import annotations

VERBS: list = []
