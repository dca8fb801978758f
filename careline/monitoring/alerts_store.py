"""The SQL of the alerts (tables alerts and alert_streaks, migration 0017)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx

# One evaluator at a time across every node: a transaction-scoped advisory lock.
_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('careline.alerts'))"
_COLUMNS = "id, tenant_id, rule, subject, state, raised_at, cleared_at, value, threshold"


async def try_lock(tx: Tx) -> bool:
    got: bool = await tx.conn.fetchval(_LOCK)
    return got


async def list_open(tx: Tx) -> list[Any]:
    return list(
        await tx.conn.fetch(
            f"SELECT {_COLUMNS} FROM alerts WHERE state = 'raised'"  # noqa: S608 - constant
        )
    )


async def list_streaks(tx: Tx) -> list[Any]:
    return list(
        await tx.conn.fetch("SELECT tenant_id, rule, subject, holding, easing FROM alert_streaks")
    )


async def insert_alert(
    tx: Tx,
    *,
    alert_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    rule: str,
    subject: str,
    at: dt.datetime,
    value: float,
    threshold: float,
) -> Any:
    return await tx.conn.fetchrow(
        "INSERT INTO alerts (id, tenant_id, rule, subject, state, raised_at, value, threshold) "  # noqa: S608
        f"VALUES ($1, $2, $3, $4, 'raised', $5, $6, $7) RETURNING {_COLUMNS}",
        alert_id,
        tenant_id,
        rule,
        subject,
        at,
        value,
        threshold,
    )


async def clear_alert(tx: Tx, alert_id: uuid.UUID, *, at: dt.datetime) -> Any:
    return await tx.conn.fetchrow(
        "UPDATE alerts SET state = 'cleared', cleared_at = $2 "  # noqa: S608 - constant
        f"WHERE id = $1 AND state = 'raised' RETURNING {_COLUMNS}",
        alert_id,
        at,
    )


async def set_streak(
    tx: Tx,
    *,
    tenant_id: uuid.UUID | None,
    rule: str,
    subject: str,
    holding: int,
    easing: int,
    at: dt.datetime,
) -> None:
    """Keep the counts of one rule's key; both zero removes its row."""
    await tx.conn.execute(
        "DELETE FROM alert_streaks WHERE rule = $1 AND subject = $2 "
        "AND tenant_id IS NOT DISTINCT FROM $3",
        rule,
        subject,
        tenant_id,
    )
    if holding or easing:
        await tx.conn.execute(
            "INSERT INTO alert_streaks (tenant_id, rule, subject, holding, easing, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            tenant_id,
            rule,
            subject,
            holding,
            easing,
            at,
        )


async def prune(tx: Tx, *, cleared_before: dt.datetime) -> int:
    done: str = await tx.conn.execute(
        "DELETE FROM alerts WHERE state = 'cleared' AND cleared_at < $1", cleared_before
    )
    return int(done.rsplit(maxsplit=1)[-1])


async def list_alerts(
    tx: Tx,
    tenant_id: uuid.UUID,
    *,
    before: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    """The organisation's alerts and the instance-wide ones, newest raised first."""
    return list(
        await tx.conn.fetch(
            f"SELECT {_COLUMNS} FROM alerts "  # noqa: S608 - constant
            "WHERE (tenant_id = $1 OR tenant_id IS NULL) "
            "AND ($2::timestamptz IS NULL OR (raised_at, id) < ($2, $3)) "
            "ORDER BY raised_at DESC, id DESC LIMIT $4",
            tenant_id,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
    )


async def list_open_for(tx: Tx, tenant_id: uuid.UUID) -> list[Any]:
    """Bounded without a LIMIT: at most one open alert per rule and subject (a part) for
    the organisation and for the instance (the unique index alerts_open)."""
    return list(
        await tx.conn.fetch(
            f"SELECT {_COLUMNS} FROM alerts "  # noqa: S608 - constant
            "WHERE state = 'raised' AND (tenant_id = $1 OR tenant_id IS NULL) "
            "ORDER BY raised_at DESC, id DESC",
            tenant_id,
        )
    )
