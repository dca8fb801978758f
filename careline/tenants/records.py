"""Rows of the tenants domain."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from careline.db.tx import Role


@dataclass(frozen=True, slots=True)
class Tenant:
    id: uuid.UUID
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """What an organisation's admins choose for it."""

    file_mb_per_person_per_day: int


class ConversationStart(enum.StrEnum):
    """Who a clinician may start a care conversation with (admins: anyone)."""

    ANY_CLIENT = "any_client"  # any client of the organisation (the default)
    CARE_TEAM = "care_team"  # only clients whose care team holds them


@dataclass(frozen=True, slots=True)
class OrganisationSettings:
    """What every member's client applies: who may start with whom, and whether devices
    keep recent conversations for offline reading."""

    conversation_start: ConversationStart
    device_storage: bool


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """Unread escalation (careline/notifications/escalation.py): the thresholds in
    working hours (None: off; no admin stage), and the organisation's working week."""

    hours: float | None
    admin_hours: float | None
    time_zone: str
    work_start: dt.time
    work_end: dt.time
    work_days: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Member:
    """An account as a member of one organisation."""

    account_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role
    email: str
    display_name: str
    created_at: dt.datetime
    last_seen_at: dt.datetime | None
    disabled: bool
    # What the member list orders by and its cursor carries: PostgreSQL's lower() of the
    # name, as stored (Python's str.lower() differs from it for some letters).
    sort_key: str


@dataclass(frozen=True, slots=True)
class LoginIdentity:
    account_id: uuid.UUID
    password_hash: str
    disabled: bool
