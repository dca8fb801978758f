"""Wire models of notification preferences and the organisation's defaults.

Every value is checked strictly and a refusal names its code (docs/errors.md):
`invalid_preference` (not true/false, not off/daily/weekly, or null where a default
needs a value), `invalid_time` (not HH:MM, 00:00-23:59), `invalid_time_zone` (not an
IANA zone this machine knows). A field the model does not have is `invalid_input`.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from careline.kit import fields

INVALID_PREFERENCE, INVALID_TIME, INVALID_TIME_ZONE = (
    "invalid_preference",
    "invalid_time",
    "invalid_time_zone",
)
# The REST handler answers a field's own code when it has one (kit/fields.error_code).
fields.CODES.update({INVALID_PREFERENCE, INVALID_TIME, INVALID_TIME_ZONE})

_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _preference(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        raise PydanticCustomError(INVALID_PREFERENCE, exc.errors()[0]["msg"]) from None


def _clock(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str) or not _HH_MM.match(value):
        raise PydanticCustomError(INVALID_TIME, "a time is HH:MM, from 00:00 to 23:59")
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone(value: Any) -> str:
    if not isinstance(value, str) or value not in _zones():
        raise PydanticCustomError(
            INVALID_TIME_ZONE, "a time zone is an IANA name such as Europe/London"
        )
    return value


OnOff = Annotated[StrictBool, WrapValidator(_preference)]
DigestChoice = Annotated[Literal["off", "daily", "weekly"], WrapValidator(_preference)]
# Documented as the string it is on the wire, "HH:MM": not OpenAPI's `format: time`,
# which means RFC 3339's HH:MM:SS with an offset and is not what careline takes.
ClockTime = Annotated[
    dt.time,
    BeforeValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": _HH_MM.pattern, "examples": ["21:00"]}),
]
TimeZoneName = Annotated[
    str, BeforeValidator(_zone), Field(description="an IANA time zone name (Europe/London)")
]


def hh_mm(value: dt.time) -> str:
    return value.strftime("%H:%M")


class ChoicesRead(BaseModel):
    push: bool
    email: bool
    digest: Literal["off", "daily", "weekly"]
    quiet_hours: bool
    quiet_start: str = Field(description="HH:MM in time_zone")
    quiet_end: str = Field(description="HH:MM in time_zone")
    time_zone: str


class PreferencesRead(BaseModel):
    """Your own choices (null: the organisation's default for your audience, shown in
    `defaults`) and what applies (`effective`)."""

    audience: Literal["staff", "clients"]
    push: bool | None
    email: bool | None
    digest: Literal["off", "daily", "weekly"] | None
    quiet_hours: bool | None
    quiet_start: str | None
    quiet_end: str | None
    time_zone: str | None
    defaults: ChoicesRead
    effective: ChoicesRead


class PreferencesUpdate(BaseModel):
    """Fields left out stay as they are; null goes back to the organisation's default."""

    model_config = ConfigDict(extra="forbid")
    push: OnOff | None = None
    email: OnOff | None = None
    digest: DigestChoice | None = None
    quiet_hours: OnOff | None = None
    quiet_start: ClockTime | None = None
    quiet_end: ClockTime | None = None
    time_zone: TimeZoneName | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class AudienceDefaultsRead(ChoicesRead):
    custom: bool = Field(description="set by an admin; false: careline's built-in defaults")


class DefaultsRead(BaseModel):
    staff: AudienceDefaultsRead
    clients: AudienceDefaultsRead


class AudienceDefaultsUpdate(BaseModel):
    """Fields left out stay as they are; a default always has a value (no null)."""

    model_config = ConfigDict(extra="forbid")
    push: OnOff | None = None
    email: OnOff | None = None
    digest: DigestChoice | None = None
    quiet_hours: OnOff | None = None
    quiet_start: ClockTime | None = None
    quiet_end: ClockTime | None = None
    time_zone: TimeZoneName | None = None

    @model_validator(mode="after")
    def _no_null(self) -> AudienceDefaultsUpdate:
        if any(getattr(self, name) is None for name in self.model_fields_set):
            raise PydanticCustomError(INVALID_PREFERENCE, "a default needs a value, not null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class DefaultsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff: AudienceDefaultsUpdate | None = None
    clients: AudienceDefaultsUpdate | None = None
