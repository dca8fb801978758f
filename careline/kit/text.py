"""Validation and normalisation of user-supplied text."""

from __future__ import annotations

import re
import unicodedata

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
