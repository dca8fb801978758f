"""Rows of the tenants domain."""

from __future__ import annotations

import datetime as dt
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
