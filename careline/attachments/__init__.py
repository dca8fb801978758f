"""Files in conversations: checked, virus-scanned, encrypted, previewed, served safely."""
