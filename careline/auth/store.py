"""SQL for sessions and sign-in throttling."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.auth.records import Session, Throttle
from careline.db.tx import Tx

_SESSION_COLUMNS = "id, account_id, tenant_id, created_at, last_used_at, expires_at, user_agent"


def _session(row: Any) -> Session:
    return Session(
        id=row["id"],
        account_id=row["account_id"],
        tenant_id=row["tenant_id"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
        user_agent=row["user_agent"],
    )


async def insert_session(
    tx: Tx,
    *,
    session_id: uuid.UUID,
    token_hash: bytes,
    account_id: uuid.UUID,
    tenant_id: uuid.UUID,
    expires_at: dt.datetime,
    user_agent: str,
) -> None:
    await tx.conn.execute(
        "INSERT INTO sessions (id, token_hash, account_id, tenant_id, expires_at, user_agent) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        session_id,
        token_hash,
        account_id,
        tenant_id,
        expires_at,
        user_agent,
    )


async def get_live_session(tx: Tx, token_hash: bytes, *, idle: dt.timedelta) -> Any:
    """The session with its member's role, if it is live: not revoked, not expired, not
    idle too long, and its member and account still enabled."""
    return await tx.conn.fetchrow(
        """SELECT s.id, s.account_id, s.tenant_id, s.last_used_at, m.role
           FROM sessions s
           JOIN memberships m ON m.tenant_id = s.tenant_id AND m.account_id = s.account_id
           JOIN accounts a ON a.id = s.account_id
           WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
             AND s.last_used_at > now() - $2::interval
             AND m.disabled_at IS NULL AND a.disabled_at IS NULL""",
        token_hash,
        idle,
    )


async def touch_session(tx: Tx, session_id: uuid.UUID) -> None:
    await tx.conn.execute("UPDATE sessions SET last_used_at = now() WHERE id = $1", session_id)


async def list_sessions(tx: Tx, account_id: uuid.UUID, tenant_id: uuid.UUID) -> list[Session]:
    rows = await tx.conn.fetch(
        f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE account_id = $1 AND tenant_id = $2 "  # noqa: S608 - constant
        "AND revoked_at IS NULL AND expires_at > now() ORDER BY last_used_at DESC",
        account_id,
        tenant_id,
    )
    return [_session(r) for r in rows]


async def revoke_sessions(
    tx: Tx,
    *,
    account_id: uuid.UUID,
    session_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    rows = await tx.conn.fetch(
        "UPDATE sessions SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL "
        "AND ($2::uuid IS NULL OR id = $2) AND ($3::uuid IS NULL OR tenant_id = $3) "
        "RETURNING id",
        account_id,
        session_id,
        tenant_id,
    )
    return [r["id"] for r in rows]


async def lock_throttles(
    tx: Tx, keys: list[str], *, forget_before: dt.datetime
) -> dict[str, Throttle]:
    """Each key's row, made if missing and locked until the transaction ends, with
    failures older than `forget_before` forgotten. Keys are locked in sorted order, so two
    attempts sharing keys queue instead of deadlocking."""
    rows = await tx.conn.fetch(
        """INSERT INTO login_throttle AS t (key, failures, last_failure_at)
           SELECT k, 0, now() FROM unnest($1::text[]) AS k ORDER BY k
           ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN t.last_failure_at < $2 THEN 0 ELSE t.failures END
           RETURNING key, failures, last_failure_at, spent, spent_at""",
        sorted(set(keys)),
        forget_before,
    )
    return {
        r["key"]: Throttle(r["key"], r["failures"], r["last_failure_at"], r["spent"], r["spent_at"])
        for r in rows
    }


async def count_failure(tx: Tx, keys: list[str]) -> None:
    """One more failure on each key (rows locked by lock_throttles)."""
    await tx.conn.execute(
        "UPDATE login_throttle SET failures = failures + 1, last_failure_at = now() "
        "WHERE key = ANY($1::text[])",
        keys,
    )


async def forgive(tx: Tx, *, cleared: list[str], one_less: list[str]) -> None:
    """Failures forgotten on `cleared` keys, one forgiven on `one_less` keys."""
    await tx.conn.execute(
        "UPDATE login_throttle SET failures = CASE WHEN key = ANY($1::text[]) THEN 0 "
        "ELSE greatest(failures - 1, 0) END "
        "WHERE key = ANY($1::text[]) OR key = ANY($2::text[])",
        cleared,
        one_less,
    )


async def set_spent(tx: Tx, spent: dict[str, float], *, at: dt.datetime) -> None:
    """The budgets' buckets as of `at` (rows locked by lock_throttles)."""
    await tx.conn.execute(
        "UPDATE login_throttle t SET spent = s.spent, spent_at = $3 "
        "FROM unnest($1::text[], $2::float8[]) AS s(key, spent) WHERE t.key = s.key",
        list(spent),
        list(spent.values()),
        at,
    )


async def delete_spent_throttles(
    tx: Tx,
    *,
    forgotten_before: dt.datetime,
    address_per_second: float,
    account_per_second: float,
    limit: int,
) -> int:
    """Remove up to `limit` rows that hold nothing any more: their failures are forgotten
    and their budget has drained. Such a row and a missing one mean the same to
    lock_throttles, which makes it again at the next attempt. Rows an attempt holds
    locked are skipped (and their state is re-checked after locking, so a row an attempt
    just changed is not removed)."""
    status = await tx.conn.execute(
        """DELETE FROM login_throttle WHERE key IN (
             SELECT key FROM login_throttle
             WHERE last_failure_at < $1
               AND spent <= extract(epoch FROM now() - spent_at)
                            * CASE WHEN key LIKE 'addr:%' THEN $2::float8 ELSE $3::float8 END
             LIMIT $4 FOR UPDATE SKIP LOCKED)""",
        forgotten_before,
        address_per_second,
        account_per_second,
        limit,
    )
    return int(status.split()[-1])
