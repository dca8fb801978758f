"""The audit: who read or changed what in an organisation, when, from where (ids only)."""
