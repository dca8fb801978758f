"""Background jobs on the PostgreSQL-backed queue (procrastinate)."""
