"""Rows of the care domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CareRelationship:
    client_id: uuid.UUID
    staff_id: uuid.UUID
    is_primary: bool


@dataclass(frozen=True, slots=True)
class GuardianLink:
    guardian_id: uuid.UUID
    client_id: uuid.UUID
