"""Per-tenant data keys, wrapped by the master key, and encryption of records with them."""
