"""Wire models of the tenants API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from careline.kit import limits
from careline.kit.fields import DisplayName

RoleName = Literal["admin", "staff", "client", "guardian"]


class MemberRead(BaseModel):
    account_id: uuid.UUID
    role: RoleName
    display_name: str
    email: str | None = Field(None, description="Shown to staff and admins only.")
    last_seen_at: dt.datetime | None
    disabled: bool


class MemberPage(BaseModel):
    items: list[MemberRead]
    next_cursor: str | None


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleName | None = None
    disabled: StrictBool | None = None


class MeRead(BaseModel):
    account_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_slug: str
    tenant_name: str
    role: RoleName
    display_name: str
    email: str
    session_id: uuid.UUID
    csrf_token: str | None = Field(None, description="For cookie sessions: send as X-CSRF-Token.")
    acting_for: list[MemberRead] = Field(description="For a guardian: the clients they speak for.")
    keep_archived: bool = Field(
        False,
        description="Archived conversations stay archived when a new message comes "
        "(default false: a new message from someone else brings one back to the inbox).",
    )


class SessionProbeRead(BaseModel):
    signed_in: bool = Field(description="Whether the request carries a live session.")
    me: MeRead | None = Field(description="As GET /api/v1/me, when signed in.")


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: DisplayName | None = None
    password: str | None = Field(None, min_length=1, max_length=limits.PASSWORD_MAX_CHARS)
    current_password: str | None = Field(None, max_length=limits.PASSWORD_MAX_CHARS)
    keep_archived: StrictBool | None = None


class RevokedRead(BaseModel):
    revoked: int


FILE_MB_PER_PERSON_PER_DAY_MAX = 1_048_576  # 1 TiB: the column's CHECK


class TenantSettingsRead(BaseModel):
    file_mb_per_person_per_day: int = Field(
        description="File MiB one person may store in 24 hours (docs/limits.md)."
    )


class TenantSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file_mb_per_person_per_day: int | None = Field(
        None, ge=1, le=FILE_MB_PER_PERSON_PER_DAY_MAX, strict=True
    )


ConversationStartName = Literal["any_client", "care_team"]


class OrganisationSettingsRead(BaseModel):
    conversation_start: ConversationStartName = Field(
        description="Who a clinician may start a care conversation with: `any_client` (any "
        "client of the organisation, the default) or `care_team` (only clients whose care "
        "team holds them). Admins may start with anyone."
    )
    device_storage: bool = Field(
        description="Whether the web client keeps recent conversations on the device for "
        "offline reading (default true)."
    )
    escalation_hours: float | None = Field(
        description="Unread escalation: working hours after which a message from a client "
        "or guardian no staff participant has read is told to the client's other care-team "
        "staff. null: off (the default)."
    )
    escalation_admin_hours: float | None = Field(
        description="Working hours (from the message) after which it is told to the "
        "organisation's admins if still unread; more than escalation_hours. null: no "
        "admin stage."
    )
    time_zone: str = Field(description="The organisation's IANA time zone (working hours).")
    work_start: str = Field(description="When a working day starts, HH:MM local time.")
    work_end: str = Field(description="When a working day ends, HH:MM local time.")
    work_days: list[int] = Field(description="Working days, ISO weekdays (1 = Monday).")


EscalationHours = Annotated[float, Field(gt=0, le=limits.ESCALATION_HOURS_MAX, strict=True)]
EscalationAdminHours = Annotated[
    float, Field(gt=0, le=limits.ESCALATION_ADMIN_HOURS_MAX, strict=True)
]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
WorkDay = Annotated[int, Field(ge=1, le=7, strict=True)]


class OrganisationSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_start: ConversationStartName | None = None
    device_storage: StrictBool | None = None
    # Escalation: a field left out stays; null turns a threshold off.
    escalation_hours: EscalationHours | None = None
    escalation_admin_hours: EscalationAdminHours | None = None
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    work_start: ClockTime | None = None
    work_end: ClockTime | None = None
    work_days: list[WorkDay] | None = Field(None, min_length=1, max_length=7)
