"""careline: secure, real-time messaging for care."""

__version__ = "0.1.0"
