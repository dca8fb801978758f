"""SQL of the e-mail channel, digests and unsubscribe links (beside store.py, which
holds the records' SQL): a recipient's address, one preference turned off, the people
a digest may be due for, and the claim that makes a digest go out once per period."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx

# What preferences.combine needs, for every active member with unread messages.
_DIGEST_CANDIDATES = """
WITH unread AS (
  SELECT n.tenant_id, n.account_id, sum(n.count)::int AS messages,
         count(DISTINCT n.object_id)::int AS conversations
  FROM notifications n
  WHERE n.read_at IS NULL AND n.kind = 'message' AND ($1::uuid IS NULL OR n.tenant_id = $1)
  GROUP BY n.tenant_id, n.account_id
)
SELECT u.tenant_id, u.account_id, u.messages, u.conversations, m.role,
       t.name AS organisation, t.time_zone AS tenant_zone, a.email AS address,
       p.push, p.email, p.digest, p.quiet_hours, p.quiet_start, p.quiet_end, p.time_zone,
       p.digest_sent_at,
       d.push AS d_push, d.email AS d_email, d.digest AS d_digest,
       d.quiet_hours AS d_quiet_hours, d.quiet_start AS d_quiet_start,
       d.quiet_end AS d_quiet_end, d.time_zone AS d_time_zone
FROM unread u
JOIN memberships m ON m.tenant_id = u.tenant_id AND m.account_id = u.account_id
  AND m.disabled_at IS NULL
JOIN tenants t ON t.id = u.tenant_id
JOIN accounts a ON a.id = u.account_id AND a.disabled_at IS NULL
LEFT JOIN notification_preferences p
  ON p.tenant_id = u.tenant_id AND p.account_id = u.account_id
LEFT JOIN notification_defaults d ON d.tenant_id = u.tenant_id
  AND d.audience = CASE WHEN m.role IN ('admin', 'staff') THEN 'staff' ELSE 'clients' END
ORDER BY u.tenant_id, u.account_id
"""


async def get_address(tx: Tx, account_id: uuid.UUID) -> str | None:
    """The e-mail address of an active account."""
    value = await tx.conn.fetchval(
        "SELECT email FROM accounts WHERE id = $1 AND disabled_at IS NULL", account_id
    )
    return str(value) if value is not None else None


async def update_email_off(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """The person's own choice: no e-mail notifications (nothing else changes)."""
    await tx.conn.execute(
        "INSERT INTO notification_preferences (tenant_id, account_id, email)"
        " VALUES ($1, $2, false) ON CONFLICT (tenant_id, account_id)"
        " DO UPDATE SET email = false, updated_at = now()",
        tenant_id,
        account_id,
    )


async def update_digest_off(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """The person's own choice: no digest (nothing else changes)."""
    await tx.conn.execute(
        "INSERT INTO notification_preferences (tenant_id, account_id, digest)"
        " VALUES ($1, $2, 'off') ON CONFLICT (tenant_id, account_id)"
        " DO UPDATE SET digest = 'off', updated_at = now()",
        tenant_id,
        account_id,
    )


async def list_digest_candidates(tx: Tx, tenant_id: uuid.UUID | None) -> list[Any]:
    """Every active member (of one organisation, or all) with unread messages, with
    their choices, their organisation's defaults and when their last digest went."""
    return list(await tx.conn.fetch(_DIGEST_CANDIDATES, tenant_id))


async def claim_digest(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, *, at: dt.datetime, since: dt.datetime
) -> bool:
    """Mark the person's digest sent at `at`, unless one went out at or after `since`
    (this period's start): True when this call claimed it. The row it may insert holds
    no choice (NULL: the defaults still apply)."""
    claimed = await tx.conn.fetchval(
        "INSERT INTO notification_preferences AS p (tenant_id, account_id, digest_sent_at)"
        " VALUES ($1, $2, $3) ON CONFLICT (tenant_id, account_id)"
        " DO UPDATE SET digest_sent_at = $3"
        " WHERE p.digest_sent_at IS NULL OR p.digest_sent_at < $4"
        " RETURNING true",
        tenant_id,
        account_id,
        at,
        since,
    )
    return bool(claimed)


async def release_digest(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, *, at: dt.datetime, back_to: Any
) -> None:
    """A claimed digest that could not be handed over: the claim at `at` is undone, so
    a later run in the same period tries again."""
    await tx.conn.execute(
        "UPDATE notification_preferences SET digest_sent_at = $4"
        " WHERE tenant_id = $1 AND account_id = $2 AND digest_sent_at = $3",
        tenant_id,
        account_id,
        at,
        back_to,
    )
