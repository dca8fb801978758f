"""Input fields whose limits answer with their documented error code.

A schema states each limit once (so the OpenAPI `maxLength`/`minimum` is the documented
limit), and a value outside it is refused with the code docs/errors.md names for it
(`text_too_long`, `invalid_client_msg_id`, `invalid_seq`, ...) instead of the generic
`invalid_input`. REST (careline/web/http.py) and the socket (realtime/protocol.py) both
read the code with `error_code`, so the two transports cannot drift apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import Field, StrictInt, ValidationError, ValidatorFunctionWrapHandler
from pydantic import WrapValidator as _Wrap
from pydantic_core import PydanticCustomError

from careline.kit import limits

# The pydantic error types that mean "outside the limit" (not "wrong type": a number
# where text belongs stays invalid_input).
_LIMIT_ERRORS = frozenset(
    {
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "greater_than_equal",
        "less_than_equal",
        "too_short",
        "too_long",
    }
)
# Every code a field below may answer with.
CODES: set[str] = set()

SEQ_MAX = 2**62


def _recode(code: str, limit: int | None, only: frozenset[str] = _LIMIT_ERRORS) -> _Wrap:
    """Answer `code` (with `limit`, if given) when the inner validation fails on one of
    the `only` error types; other failures stay what they are."""
    CODES.add(code)
    context = {"limit": limit} if limit is not None else {}

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] not in only:
                raise
            raise PydanticCustomError(code, first["msg"], context) from None

    return _Wrap(validate)


def limited_text(code: str, *, max_length: int, min_length: int = 0) -> Any:
    """A string of min_length..max_length code points, refused with `code`."""
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), _recode(code, max_length)
    ]


MessageText = limited_text("text_too_long", max_length=limits.MESSAGE_TEXT_MAX_CHARS)
TitleText = limited_text("text_too_long", max_length=limits.TITLE_MAX_CHARS)
DisplayName = limited_text("text_too_long", max_length=limits.DISPLAY_NAME_MAX_CHARS, min_length=1)
ClientMsgId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=limits.CLIENT_MSG_ID_MAX_CHARS,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Your id for this send; a retry with the same id returns the original.",
    ),
    _recode("invalid_client_msg_id", limits.CLIENT_MSG_ID_MAX_CHARS),
]
Emoji = limited_text("invalid_emoji", max_length=limits.REACTION_MAX_CHARS, min_length=1)
Email = limited_text("invalid_email", max_length=limits.EMAIL_MAX_CHARS, min_length=3)
# Too short is a weak password; too long is plain invalid_input (nobody types 1,000).
NewPassword = Annotated[
    str,
    Field(min_length=limits.PASSWORD_MIN_CHARS, max_length=limits.PASSWORD_MAX_CHARS),
    _recode("weak_password", limits.PASSWORD_MIN_CHARS, frozenset({"string_too_short"})),
]
# Other people in a new team conversation (the creator may be listed too).
TeamMembers = Annotated[
    list[uuid.UUID],
    Field(max_length=limits.TEAM_MAX_MEMBERS),
    _recode("too_many_members", limits.TEAM_MAX_MEMBERS),
]
# Files sent with one message.
AttachmentIds = Annotated[
    list[uuid.UUID],
    Field(max_length=limits.MESSAGE_MAX_ATTACHMENTS),
    _recode("too_many_attachments", limits.MESSAGE_MAX_ATTACHMENTS),
]
# A position in a conversation's timeline: 0 is "before the first event".
Seq = Annotated[StrictInt, Field(ge=0, le=SEQ_MAX), _recode("invalid_seq", None)]
# Query parameters arrive as text, so they cannot be strict.
SeqParam = Annotated[int, Field(ge=0, le=SEQ_MAX), _recode("invalid_seq", None)]


def error_code(errors: Iterable[Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The documented code for a list of pydantic errors, and its extra fields: the code
    of the first field that has one, else `invalid_input`."""
    for error in errors:
        if error.get("type") in CODES:
            return str(error["type"]), dict(error.get("ctx") or {})
    return "invalid_input", {}
