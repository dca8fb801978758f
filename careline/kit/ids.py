"""Typed identifiers. All ids are UUIDs (v7: time-ordered, so indexes stay compact)."""

from __future__ import annotations

import os
import time
import uuid
from typing import NewType

TenantId = NewType("TenantId", uuid.UUID)
AccountId = NewType("AccountId", uuid.UUID)
SessionId = NewType("SessionId", uuid.UUID)
ConversationId = NewType("ConversationId", uuid.UUID)
MessageId = NewType("MessageId", uuid.UUID)


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit millisecond timestamp, then random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return uuid.UUID(int=value)


def parse_uuid(raw: object) -> uuid.UUID | None:
    """The UUID in `raw`, or None when it is not one (never raises)."""
    if isinstance(raw, uuid.UUID):
        return raw
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None
