"""Reports: usage and engagement per month, counts only (docs/operations.md "Reports")."""
