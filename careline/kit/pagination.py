"""Opaque cursors for lists: a page is at most PAGE_MAX items; `next_cursor` continues.

A cursor comes back from the client, so it is input like any other: every list decodes
its cursor here, through one decoder that checks the shape and the type of each part
and answers `invalid_cursor` for anything this server did not give out (bad base64,
bad JSON, the wrong number or type of parts, a bad id or time, text PostgreSQL cannot
hold)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from careline.kit import limits, text
from careline.kit.errors import InvalidInput

T = TypeVar("T")

_NOT_OURS = "not a cursor this list gave out"


class _Forged(ValueError):
    pass


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).rstrip(b"=").decode()


def _parts(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):  # orjson.JSONDecodeError is a ValueError
        raise _Forged from None
    if not isinstance(values, list) or len(values) != size:
        raise _Forged
    return values


def _text(value: Any) -> str:
    if not isinstance(value, str) or not text.storable(value):
        raise _Forged
    return value


def _time(value: Any) -> dt.datetime:
    at = dt.datetime.fromisoformat(_text(value))  # ValueError for what is not a time
    if at.tzinfo is None:
        raise _Forged
    return at


def _id(value: Any) -> uuid.UUID:
    return uuid.UUID(_text(value))


def _decode(cursor: str | None, first: Callable[[Any], T]) -> tuple[T, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        key, last_id = _parts(cursor, 2)
        return first(key), _id(last_id)
    except ValueError:
        raise InvalidInput(_NOT_OURS, code="invalid_cursor") from None


def decode_time_cursor(cursor: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    """A cursor of (a time, an id), as `encode_cursor([at.isoformat(), str(id)])` made."""
    return _decode(cursor, _time)


def decode_text_cursor(cursor: str | None) -> tuple[str, uuid.UUID] | None:
    """A cursor of (a sort text, an id), as `encode_cursor([text, str(id)])` made."""
    return _decode(cursor, _text)


def decode_id_cursor(cursor: str | None) -> tuple[uuid.UUID, uuid.UUID] | None:
    """A cursor of two ids, as `encode_cursor([str(first), str(second)])` made."""
    return _decode(cursor, _id)


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return limits.PAGE_DEFAULT
    return max(1, min(limit, limits.PAGE_MAX))
