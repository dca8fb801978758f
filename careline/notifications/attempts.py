"""The record of every attempt a channel made, without content: what admins see of
notifications that were refused or failed (docs/notifications.md, "Attempts")."""

from __future__ import annotations

import uuid
from typing import Literal

from careline.db.tx import Tx

Outcome = Literal["sent", "retrying", "refused", "failed", "removed"]


async def record(
    tx: Tx,
    *,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    notification_id: uuid.UUID | None,
    channel: Literal["push", "email", "digest"],
    kind: str,
    outcome: Outcome,
    reason: str | None = None,
    status: int | None = None,
) -> None:
    """One attempt (as the system: call it inside a system transaction). `reason` is a
    code such as push_410 or smtp_550, never an address, an endpoint or text."""
    await tx.conn.execute(
        "INSERT INTO notification_attempts (tenant_id, account_id, notification_id, channel,"
        " kind, outcome, reason, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        tenant_id,
        account_id,
        notification_id,
        channel,
        kind,
        outcome,
        reason,
        status,
    )
