"""Wire models of the auth API."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from careline.kit import limits


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=limits.EMAIL_MAX_CHARS)
    password: str = Field(min_length=1, max_length=limits.PASSWORD_MAX_CHARS)
    tenant: str | None = Field(
        None, max_length=63, description="Organisation slug, when you belong to several."
    )


class SignedInRead(BaseModel):
    account_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_slug: str
    tenant_name: str
    role: str
    session_id: uuid.UUID
    csrf_token: str | None = Field(None, description="Send as X-CSRF-Token with cookie sessions.")


class TokenRead(SignedInRead):
    token: str = Field(description="Bearer token: `Authorization: Bearer <token>`.")


class SessionRead(BaseModel):
    id: uuid.UUID
    created_at: dt.datetime
    last_used_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str
    current: bool
