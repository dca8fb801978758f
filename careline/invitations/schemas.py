"""Wire models of the invitations API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from careline.kit import limits
from careline.kit.fields import DisplayName, Email
from careline.tenants.schemas import RoleName


class InvitationCreate(BaseModel):
    """No password: the person chooses their own when they accept."""

    model_config = ConfigDict(extra="forbid")
    email: Email
    display_name: DisplayName
    role: RoleName


class InvitationRead(BaseModel):
    """A pending member: exactly what the admin typed, and where the invitation stands."""

    id: uuid.UUID
    email: str
    display_name: str
    role: RoleName
    state: Literal["pending", "accepted", "declined", "revoked"]
    delivery: Literal["link", "queued", "sent", "failed"] = Field(
        description="link: shown to the admin once; queued/sent/failed: by e-mail."
    )
    created_at: dt.datetime
    expires_at: dt.datetime
    expired: bool


class InvitationCreated(BaseModel):
    invitation: InvitationRead
    link: str | None = Field(
        description="The one-time link, shown only now, when careline sends no e-mail "
        "(no SMTP configured); null when it is e-mailed."
    )


class InvitationPage(BaseModel):
    items: list[InvitationRead]
    next_cursor: str | None


class OfferRead(BaseModel):
    """An invitation as the invited person sees it."""

    id: uuid.UUID
    tenant_slug: str
    tenant_name: str
    role: RoleName
    display_name: str
    email: str
    expires_at: dt.datetime


class AcceptedRead(BaseModel):
    tenant_slug: str
    tenant_name: str
    role: RoleName


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=limits.INVITATION_TOKEN_MAX_CHARS)


class TokenAccept(TokenBody):
    password: str = Field(min_length=1, max_length=limits.PASSWORD_MAX_CHARS)
    display_name: DisplayName | None = Field(
        None,
        description="Only for a new account: your name. Omit it to sign in with the "
        "account the e-mail already has.",
    )
