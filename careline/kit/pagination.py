"""Opaque cursors for lists: a page is at most PAGE_MAX items; `next_cursor` continues."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from careline.kit import limits
from careline.kit.errors import InvalidInput


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).rstrip(b"=").decode()


def decode_cursor(cursor: str | None, *, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidInput("not a cursor this list gave out", code="invalid_cursor") from None
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInput("not a cursor this list gave out", code="invalid_cursor")
    return values


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return limits.PAGE_DEFAULT
    return max(1, min(limit, limits.PAGE_MAX))
