"""Messages: the clinical record. Immutable once sent; edits add revisions, deletes redact."""
