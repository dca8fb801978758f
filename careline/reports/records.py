"""The reports' values: counts per day, week and month, and reply times. No content."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

ROLES = ("admin", "staff", "client", "guardian")


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in the organisation's time zone: [start, end)."""

    year: int
    month: int
    time_zone: str
    first: dt.date
    last: dt.date
    start: dt.datetime
    end: dt.datetime

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Usage:
    """One period's figures: people active by role, messages by side, files shared."""

    active: dict[str, int]
    messages_from_staff: int = 0
    messages_from_clients: int = 0
    files: int = 0

    @property
    def active_total(self) -> int:
        return sum(self.active.values())


@dataclass(frozen=True, slots=True)
class UsageReport:
    month: Month
    total: Usage
    days: list[tuple[dt.date, Usage]]
    # ISO weeks (Monday first) with a day in the month, counted over all seven days.
    weeks: list[tuple[dt.date, Usage]]


@dataclass(frozen=True, slots=True)
class Engagement:
    """Client messages that waited for staff, in one group."""

    waiting: int
    answered: int
    median_reply_seconds: float | None
    unanswered_over_a_day: int


@dataclass(frozen=True, slots=True)
class EngagementRow:
    """A staff member's conversations (None: the support desk), or a client's care team."""

    account_id: uuid.UUID | None
    name: str | None
    figures: Engagement


@dataclass(frozen=True, slots=True)
class EngagementReport:
    month: Month
    total: Engagement
    by_staff: list[EngagementRow]
    by_team: list[EngagementRow]
