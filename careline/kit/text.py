"""Validation and normalisation of user-supplied text."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from careline.kit.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# Control characters other than newline and tab (and the bidi overrides abused to
# disguise text) are never part of a message.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str, *, field: str, max_chars: int, multiline: bool) -> str:
    """NFC-normalised, trimmed text, or InvalidInput naming the field and the limit."""
    text = unicodedata.normalize("NFC", value).strip()
    if not multiline:
        text = " ".join(text.split())
    if _FORBIDDEN.search(text):
        raise InvalidInput(f"{field} contains control characters", code="invalid_text")
    if not text:
        raise InvalidInput(f"{field} must not be empty", code="empty_text")
    if len(text) > max_chars:
        raise InvalidInput(
            f"{field} is {len(text)} characters; the limit is {max_chars}",
            code="text_too_long",
            extra={"limit": max_chars},
        )
    return text


def clean_email(value: str, *, max_chars: int) -> str:
    email = value.strip()
    if len(email) > max_chars or not _EMAIL.match(email):
        raise InvalidInput("not a valid e-mail address", code="invalid_email")
    return email


# PostgreSQL text cannot hold NUL, and a lone surrogate has no UTF-8 form: a string with
# either fails deep in the database (or in the JSON encoder) as a 500. The transports
# refuse them at the door, for every string of every request (careline/web/http.py for
# REST, careline/realtime/protocol.py for socket frames).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In valid JSON such a character can only arrive as a \u escape (NUL, or any surrogate:
# telling a lone one from half of a pair needs the decoder), so documents without one
# (nearly all) are not decoded a second time.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE_ESCAPE_BYTES = re.compile(_UNSTORABLE_ESCAPE.pattern.encode())
UNSTORABLE_PROBLEM = "holds a character that cannot be stored (NUL or a lone surrogate)"


def unstorable_problem(field: str) -> tuple[str, dict[str, Any]]:
    """The detail and extra members of the `invalid_text` error naming `field`: one
    wording for REST and the socket alike."""
    return f"{field} {UNSTORABLE_PROBLEM}", {
        "field": field,
        "errors": [{"field": field, "problem": UNSTORABLE_PROBLEM}],
    }


def storable(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


def find_unstorable(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string in a decoded JSON value (keys included) that
    cannot be stored, or None. A bad key is named by its parent: it is never echoed."""
    if isinstance(value, str):
        return None if storable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            if not storable(key):
                return path
            found = find_unstorable(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_unstorable(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def find_unstorable_json(raw: str | bytes) -> tuple[Any, str] | None:
    """For a JSON document: the decoded document and the path of its first string that
    cannot be stored, or None (also for what is not JSON: its parser answers that)."""
    pattern = _UNSTORABLE_ESCAPE_BYTES if isinstance(raw, bytes) else _UNSTORABLE_ESCAPE
    if pattern.search(raw) is None:  # type: ignore[arg-type]
        return None
    try:
        # The standard library keeps lone surrogates, which orjson refuses to decode.
        document = json.loads(raw)
    except ValueError:
        return None
    found = find_unstorable(document)
    return None if found is None else (document, found)
