"""Wire models of the audit page (docs/api.md, "Audit")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from careline.audit.browse import CATEGORIES

Category = Literal["access", "admin", "intervention", "system"]
assert set(CATEGORIES) == {"access", "admin", "intervention", "system"}


class AuditFilters(BaseModel):
    """Which events: every field narrows the list; none given is every event."""

    model_config = ConfigDict(extra="forbid")

    actor_id: uuid.UUID | None = Field(None, description="Events by this person.")
    conversation_id: uuid.UUID | None = Field(None, description="Events in this conversation.")
    action: str | None = Field(
        None, max_length=64, description="One action, e.g. `conversation.history_read`."
    )
    category: Category | None = Field(None, description="One category of actions.")
    since: dt.datetime | None = Field(None, description="At or after this time (with a zone).")
    until: dt.datetime | None = Field(None, description="Before this time (with a zone).")
    client_id: uuid.UUID | None = Field(
        None,
        description="Who has opened this client's record: accesses to every conversation "
        "the client or their guardians take part in, and events about the client.",
    )

    @field_validator("since", "until", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # A time is RFC 3339 text; pydantic would also take a number of seconds.
        if value is not None and not isinstance(value, str):
            raise ValueError("a time is RFC 3339 text, e.g. 2026-12-02T09:00:00Z")
        return value


class AuditEventRead(BaseModel):
    id: uuid.UUID
    at: dt.datetime
    action: str
    category: Category
    actor_account_id: uuid.UUID | None
    actor_name: str | None
    actor_role: str
    conversation_id: uuid.UUID | None
    object_id: uuid.UUID | None
    subject_account_id: uuid.UUID | None
    subject_name: str | None
    detail: dict[str, int | bool | str]
    reason: str | None = Field(description="The stated reason of a break-glass step.")
    source: str | None = Field(description="The address the request came from.")
    user_agent: str | None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None


class AuditExportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "json"]
    filters: AuditFilters = Field(default_factory=AuditFilters)


class AuditExportRead(BaseModel):
    id: uuid.UUID
    format: Literal["csv", "json"]
    state: Literal["queued", "running", "done"]
    done: int = Field(description="Events written so far.")
    total: int = Field(description="Events the export holds once done.")
    created_at: dt.datetime
    finished_at: dt.datetime | None
    expires_at: dt.datetime = Field(description="When the export is removed.")
    bytes: int
