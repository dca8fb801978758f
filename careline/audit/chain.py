"""The audit chain's arithmetic, without I/O: the canonical encoding of an event, the
hash that links it to the one before, and the message a checkpoint signs.

An event's encoding is JSON with sorted keys of every column the app writes (and the
writing transaction's id), times in UTC with microseconds, bytes in hex: the same row
always encodes to the same bytes, and any change to any column changes the hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

GENESIS = bytes(32)  # the "previous hash" of an organisation's first event
_EVENT_PREFIX = b"careline-audit-event-v1\n"
_CHECKPOINT_PREFIX = b"careline-audit-checkpoint-v1\n"

# The columns of audit_events the hash covers, in the order they are read.
COLUMNS = (
    "id",
    "tenant_id",
    "at",
    "actor_account_id",
    "actor_role",
    "session_id",
    "action",
    "conversation_id",
    "object_id",
    "subject_account_id",
    "detail",
    "reason_ct",
    "key_version",
    "source",
    "user_agent",
    "txid",
)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)  # uuid, ip address, xid8 (asyncpg gives int; str for the rest)


def encode_event(row: Mapping[str, Any]) -> bytes:
    """The canonical bytes of one audit_events row (a record with `COLUMNS`)."""
    return orjson.dumps({c: _plain(row[c]) for c in COLUMNS}, option=orjson.OPT_SORT_KEYS)


def link(prev_hash: bytes, row: Mapping[str, Any]) -> bytes:
    """The hash of `row` sealed after an event whose hash is `prev_hash`."""
    return hashlib.sha256(_EVENT_PREFIX + prev_hash + encode_event(row)).digest()


def checkpoint_message(
    tenant_id: uuid.UUID, position: int, hash_: bytes, horizon: int, at: dt.datetime
) -> bytes:
    """What a checkpoint's signature covers."""
    return (
        _CHECKPOINT_PREFIX
        + "\n".join((str(tenant_id), str(position), hash_.hex(), str(horizon), _plain(at))).encode()
    )
