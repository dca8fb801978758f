"""The one place that reads the wall clock, so time is always timezone-aware."""

from __future__ import annotations

import datetime as dt
import time


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def monotonic() -> float:
    return time.monotonic()


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
