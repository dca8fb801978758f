"""Domain-free helpers. Nothing here imports the rest of careline."""
