"""Wire models of break-glass."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from careline.kit import limits

# The reason is checked by audit_service.check_reason (reason_required, reason_too_long);
# the schema takes any string so those codes, not a generic 422, answer.


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, description="Why (required; at most 500 characters).")


class AccessOpen(Reason):
    hours: int | None = Field(
        None,
        description=f"How long, 1 to {limits.BREAKGLASS_HOURS_MAX} hours; default "
        "`breakglass_hours` (4).",
    )


class AdminConversationRead(BaseModel):
    id: uuid.UUID
    kind: Literal["care", "team", "support"]
    participant_count: int
    created_at: dt.datetime
    last_activity_at: dt.datetime
    frozen_at: dt.datetime | None
    participant: bool = Field(description="Whether you take part in it.")
    access_expires_at: dt.datetime | None = Field(
        description="When your read-only access ends; null without one."
    )


class AdminConversationPage(BaseModel):
    items: list[AdminConversationRead]
    next_cursor: str | None


class AdminParticipantRead(BaseModel):
    account_id: uuid.UUID
    role: Literal["admin", "staff", "client", "guardian"]
    display_name: str | None


class FrozenResult(BaseModel):
    conversation_id: uuid.UUID
    frozen_at: dt.datetime | None


class GrantRead(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    granted_at: dt.datetime
    expires_at: dt.datetime


class RemovedResult(BaseModel):
    seq: int
