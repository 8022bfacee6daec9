"""What scheduled work needs that is not a command: the store, the instant, the settings."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.kernel.outbound import timezone_of
from storage.models import Person
from storage.store import Store


@dataclass
class Cadence:
    """The tick's view of one piece of scheduled work."""

    store: Store
    now: datetime
    settings: Any

    def tz(self, person: Person) -> str:
        return timezone_of(person, self.settings.timezone)

    def get(self, path: str) -> Any:
        return self.settings.get(path)
