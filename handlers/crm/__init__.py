"""The CRM: leads, handoffs, their next activities and wins written to HubSpot (jobs.py turns the
activity log into outbox rows, adapters/crm writes them), and `crm status` for admins."""
from handlers.crm.jobs import JOBS
from handlers.crm.verbs import VERBS

__all__ = ["JOBS", "VERBS"]
