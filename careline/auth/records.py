"""Rows of the auth domain."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from careline.db.tx import Actor
from careline.tenants.records import Tenant


@dataclass(frozen=True, slots=True)
class Session:
    id: uuid.UUID
    account_id: uuid.UUID
    tenant_id: uuid.UUID
    created_at: dt.datetime
    last_used_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str


@dataclass(frozen=True, slots=True)
class Throttle:
    key: str
    failures: int
    last_failure_at: dt.datetime
    spent: float  # successful sign-ins in the budget's bucket, as of spent_at
    spent_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    actor: Actor
    tenant: Tenant
    device_cookie: str
