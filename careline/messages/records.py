"""Rows of the messages domain."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from careline.attachments.records import Attachment


@dataclass(frozen=True, slots=True)
class Message:
    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    sender_id: uuid.UUID
    client_msg_id: str
    reply_to_id: uuid.UUID | None
    text: str | None  # None once redacted: participants never get redacted text
    revision: int
    created_at: dt.datetime
    edited_at: dt.datetime | None
    redacted_at: dt.datetime | None
    reactions: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()  # available files only; none once redacted


@dataclass(frozen=True, slots=True)
class Revision:
    revision: int
    text: str
    created_at: dt.datetime
