"""CRM adapters: each writes the neutral CRM operations of handlers/crm/ops.py to one CRM."""
