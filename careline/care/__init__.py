"""Care relationships (client <-> staff) and guardian links (guardian -> client)."""
