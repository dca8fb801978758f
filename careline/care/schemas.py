"""Wire models of the care API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, StrictBool


class RelationshipRead(BaseModel):
    client_id: uuid.UUID
    staff_id: uuid.UUID
    is_primary: bool


class RelationshipPage(BaseModel):
    items: list[RelationshipRead]
    next_cursor: str | None


class RelationshipWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: uuid.UUID
    staff_id: uuid.UUID
    is_primary: StrictBool = False


class RelationshipKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: uuid.UUID
    staff_id: uuid.UUID


class GuardianLinkRead(BaseModel):
    guardian_id: uuid.UUID
    client_id: uuid.UUID


class GuardianLinkPage(BaseModel):
    items: list[GuardianLinkRead]
    next_cursor: str | None


class GuardianLinkWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    guardian_id: uuid.UUID
    client_id: uuid.UUID
