"""Rows of the invitations domain."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from careline.db.tx import Role


class State(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class Delivery(enum.StrEnum):
    """How the link reaches the person: shown to the admin once, or e-mailed."""

    LINK = "link"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the admin typed, and where the invitation stands. Nothing here comes from
    the invitee's account, which may belong to other organisations."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    display_name: str
    role: Role
    state: State
    delivery: Delivery
    created_at: dt.datetime
    expires_at: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True, slots=True)
class Offer:
    """A pending invitation as its invitee sees it."""

    invitation: Invitation
    tenant_slug: str
    tenant_name: str
