"""Wire models of the notification centre's API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from careline.kit import limits


class NotificationRead(BaseModel):
    id: uuid.UUID
    kind: str
    conversation_id: uuid.UUID | None
    object_id: uuid.UUID
    count: int
    first_seq: int | None
    last_seq: int | None
    priority: Literal["high", "normal"]
    created_at: dt.datetime
    updated_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    next_cursor: str | None


class NotificationSummary(BaseModel):
    unread: int
    messages: int


class MarkRead(BaseModel):
    """Either `ids` (your records to mark read) or `all: true` (every unread one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=limits.NOTIFICATIONS_READ_MAX_IDS
    )
    all: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if (self.ids is None) == (self.all is None):
            raise ValueError("give either ids or all: true")
        return self


class MarkedRead(BaseModel):
    ids: list[uuid.UUID]
    unread: int
    messages: int
