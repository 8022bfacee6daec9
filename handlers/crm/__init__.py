"""The CRM: leads, handoffs, their next activities, wins and credit splits written to HubSpot or
Salesforce (jobs.py turns the activity log into outbox rows, adapters/crm writes them), their
changes there read back (reconcile.py), and `crm status` for admins."""
from handlers.crm.jobs import JOBS
from handlers.crm.verbs import VERBS

__all__ = ["JOBS", "VERBS"]
