"""Outbound e-mail: one adapter (SMTP) and the words careline sends, in one place."""
