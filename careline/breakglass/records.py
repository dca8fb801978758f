"""Values of break-glass."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frozen:
    """A conversation an admin has paused, and why (the reason as the admin wrote it)."""

    conversation_id: uuid.UUID
    at: dt.datetime
    by: uuid.UUID | None
    reason: str


@dataclass(frozen=True, slots=True)
class Grant:
    """An admin's read-only access to a conversation they are not in."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    conversation_id: uuid.UUID
    account_id: uuid.UUID
    granted_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None
