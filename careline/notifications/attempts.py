"""The record of every attempt a channel made, without content: what admins see of
notifications that were refused or failed (docs/notifications.md, "Attempts")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

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


NOT_SENT = ("retrying", "refused", "failed", "removed")


async def list_attempts(
    tx: Tx, *, before: tuple[dt.datetime, int] | None, failed: bool, limit: int
) -> list[Any]:
    """Admins: the organisation's attempts, newest first (`failed`: only those that did
    not send). Row-level security shows admins their own organisation's only."""
    return list(
        await tx.conn.fetch(
            """
            SELECT id, account_id, notification_id, channel, kind, outcome, reason, status, at
            FROM notification_attempts
            WHERE tenant_id = $1
              AND ($2::timestamptz IS NULL OR (at, id) < ($2, $3))
              AND (NOT $4 OR outcome = ANY($5::text[]))
            ORDER BY at DESC, id DESC
            LIMIT $6
            """,
            tx.actor.tenant,
            before[0] if before else None,
            before[1] if before else 0,
            failed,
            list(NOT_SENT),
            limit,
        )
    )


async def count_outcomes(tx: Tx, *, since: dt.datetime) -> dict[tuple[str, str], int]:
    """(channel, outcome) -> attempts since `since`, of every organisation the actor may
    see (the system with no tenant: the instance's), for /metrics."""
    rows = await tx.conn.fetch(
        "SELECT channel, outcome, count(*) AS n FROM notification_attempts WHERE at >= $1"
        " GROUP BY channel, outcome",
        since,
    )
    return {(r["channel"], r["outcome"]): r["n"] for r in rows}
