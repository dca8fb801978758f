"""Rows of the conversations domain."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Any

from careline.db.tx import Role


class Kind(enum.StrEnum):
    CARE = "care"
    TEAM = "team"
    SUPPORT = "support"


@dataclass(frozen=True, slots=True)
class Conversation:
    id: uuid.UUID
    tenant_id: uuid.UUID
    kind: Kind
    title: str | None
    client_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    created_by: uuid.UUID
    created_at: dt.datetime
    last_seq: int
    last_message_seq: int
    last_activity_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Participant:
    conversation_id: uuid.UUID
    account_id: uuid.UUID
    role: Role
    joined_at: dt.datetime
    archived: bool
    muted: bool
    delivered_seq: int
    read_seq: int
    # Team conversations: "all" messages notify, or only "replies" to this person.
    notify: str = "all"


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    conversation_id: uuid.UUID
    seq: int
    type: str
    actor_id: uuid.UUID
    message_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    data: dict[str, Any]
    created_at: dt.datetime
