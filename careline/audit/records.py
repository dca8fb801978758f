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
