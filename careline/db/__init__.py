"""PostgreSQL: the embedded server, the pool, transactions and migrations."""
