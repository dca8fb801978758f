"""Recording an admin's change: by the person who made it, never by careline's set-up.

An organisation made by `careline demo`, by the tests' worlds or by the bench is set up
by a system actor calling the same services an admin's request calls (care teams,
guardian links, settings, invitations). Nobody made those changes, so they are not
audited; what careline does on its own that the audit must show (key rotation,
retention) records through `service.record` directly.
"""

from __future__ import annotations

import uuid

from careline.audit import service as audit_service
from careline.audit.records import DetailValue
from careline.db.tx import Role, Tx


async def record_change(
    tx: Tx,
    action: str,
    *,
    conversation_id: uuid.UUID | None = None,
    object_id: uuid.UUID | None = None,
    subject_account_id: uuid.UUID | None = None,
    detail: dict[str, DetailValue] | None = None,
) -> None:
    """`service.record` for a change a person makes; nothing for a system actor."""
    if tx.actor.role is Role.SYSTEM:
        return
    await audit_service.record(
        tx,
        action,
        conversation_id=conversation_id,
        object_id=object_id,
        subject_account_id=subject_account_id,
        detail=detail,
    )
