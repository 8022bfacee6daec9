"""Our stages and a CRM's, both ways: a CRM's default pipeline, with the operator's own stage
names where setting `crm.stages` gives them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pipeline:
    handoff: dict[str, str]  # identified … delivered, won, lost → the CRM's stage
    lead: dict[str, str]  # open, won, lost → the CRM's stage

    @classmethod
    def of(cls, handoff: dict[str, str], lead: dict[str, str], overrides: dict[str, str] | None) -> Pipeline:
        overrides = overrides or {}
        return cls({ours: overrides.get(ours, theirs) for ours, theirs in handoff.items()},
                   {ours: overrides.get(ours, theirs) for ours, theirs in lead.items()})

    def theirs(self, record: str, stage: str) -> str:
        """The CRM's stage for a record's (L-3: a lead's; H-2: a handoff's)."""
        return (self.lead if record.startswith("L") else self.handoff)[stage]

    def ours(self, record: str, theirs: str) -> str:
        """Ours for the CRM's stage: a lead is open until closed won or lost; for a handoff, a
        stage of the CRM's own that we do not have is "" (ours stays as it is)."""
        if record.startswith("L"):
            return {self.lead["won"]: "won", self.lead["lost"]: "lost"}.get(theirs, "open")
        return {crm: mine for mine, crm in self.handoff.items()}.get(theirs, "")
