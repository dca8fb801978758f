"""The reports' wire models (JSON); the CSV forms are in careline/reports/csv_forms.py."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field


class ActiveRead(BaseModel):
    """People active (sent a message or read a conversation) in the period, by role."""

    admin: int
    staff: int
    client: int
    guardian: int
    total: int


class UsageFiguresRead(BaseModel):
    active: ActiveRead
    messages_from_staff: int = Field(description="Messages sent by staff and admins.")
    messages_from_clients: int = Field(description="Messages sent by clients and guardians.")
    messages: int
    files: int = Field(description="Files shared in messages.")


class UsageDayRead(UsageFiguresRead):
    day: dt.date


class UsageWeekRead(UsageFiguresRead):
    week_start: dt.date = Field(description="The Monday of an ISO week with a day in the month.")


class UsageRead(BaseModel):
    month: str = Field(description="YYYY-MM")
    time_zone: str = Field(description="The organisation's time zone: days begin at its midnight.")
    total: UsageFiguresRead
    days: list[UsageDayRead]
    weeks: list[UsageWeekRead]


class EngagementFiguresRead(BaseModel):
    waiting: int = Field(
        description="Client messages that began a wait for staff (the first from the client's"
        " side since the last staff message)."
    )
    answered: int
    median_reply_seconds: float | None = Field(
        description="Median time from a waiting client message to the first staff reply."
    )
    unanswered_over_a_day: int = Field(
        description="Waits that lasted more than a day: answered later, or not yet answered."
    )


class EngagementRowRead(EngagementFiguresRead):
    account_id: uuid.UUID | None = Field(
        description="The staff member (by staff), the client whose care team it is (by team);"
        " null: the support desk."
    )
    name: str | None


class EngagementRead(BaseModel):
    month: str
    time_zone: str
    total: EngagementFiguresRead
    by_staff: list[EngagementRowRead]
    by_team: list[EngagementRowRead]
