"""Values of the audit domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

DetailValue = int | bool | str


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit event as a call site records it, before it is written."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    at: datetime
    actor_account_id: uuid.UUID | None
    actor_role: str
    session_id: uuid.UUID | None
    action: str
    conversation_id: uuid.UUID | None
    object_id: uuid.UUID | None
    subject_account_id: uuid.UUID | None
    detail: dict[str, DetailValue]
    reason_ct: bytes | None
    key_version: int | None
    source: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class Link:
    """One event's place in its organisation's chain."""

    position: int
    event_id: uuid.UUID
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the chain at `position` ends in `hash`, and every event of a
    transaction below `horizon` (a transaction id) is in it."""

    tenant_id: uuid.UUID
    position: int
    hash: bytes
    horizon: int
    at: datetime
    key_id: str
    signature: bytes
