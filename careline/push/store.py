"""SQL for push subscriptions (push_subscriptions, migration 0012), and what the push
channel re-reads of a notification record and its organisation to retry one send."""

from __future__ import annotations

import uuid
from typing import Any

from careline.db.tx import Tx

# A subscription lives while its session does: not revoked (signing out revokes too)
# and not past its absolute end. Idleness is not counted: the push is what brings an
# idle person back, and their next request finds out whether the session still holds.


async def upsert_subscription(
    tx: Tx,
    *,
    subscription_id: uuid.UUID,
    session_id: uuid.UUID | None,
    endpoint: str,
    p256dh: bytes,
    auth: bytes,
) -> uuid.UUID:
    """One row per endpoint in a tenant: subscribing again (new keys, another person
    signed in on the same browser) replaces it. The row is the actor's own (RLS)."""
    value: uuid.UUID = await tx.conn.fetchval(
        """INSERT INTO push_subscriptions (id, tenant_id, account_id, session_id, endpoint,
                                           p256dh, auth)
           VALUES ($1, cl_tenant_id(), cl_account_id(), $2, $3, $4, $5)
           ON CONFLICT (tenant_id, endpoint) DO UPDATE
             SET account_id = EXCLUDED.account_id, session_id = EXCLUDED.session_id,
                 p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, created_at = now()
           RETURNING id""",
        subscription_id,
        session_id,
        endpoint,
        p256dh,
        auth,
    )
    return value


async def delete_own_subscription(tx: Tx, endpoint: str) -> bool:
    """The actor's subscription for `endpoint` in the actor's tenant (RLS keeps others')."""
    status: str = await tx.conn.execute(
        "DELETE FROM push_subscriptions WHERE endpoint = $1 AND tenant_id = cl_tenant_id()"
        " AND account_id = cl_account_id()",
        endpoint,
    )
    return status != "DELETE 0"


async def list_live(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> list[Any]:
    """The person's subscriptions in this tenant whose session still holds."""
    return list(
        await tx.conn.fetch(
            """SELECT s.id, s.tenant_id, s.account_id, s.session_id, s.endpoint, s.p256dh, s.auth
                FROM push_subscriptions s JOIN sessions ses ON ses.id = s.session_id
                WHERE s.tenant_id = $1 AND s.account_id = $2
                  AND ses.revoked_at IS NULL AND ses.expires_at > now()
                ORDER BY s.created_at""",
            tenant_id,
            account_id,
        )
    )


async def get_live(tx: Tx, subscription_id: uuid.UUID) -> Any:
    return await tx.conn.fetchrow(
        """SELECT s.id, s.tenant_id, s.account_id, s.session_id, s.endpoint, s.p256dh, s.auth
           FROM push_subscriptions s JOIN sessions ses ON ses.id = s.session_id
           WHERE s.id = $1 AND ses.revoked_at IS NULL AND ses.expires_at > now()""",
        subscription_id,
    )


async def delete_dead(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> int:
    """Remove the person's subscriptions whose session ended (or never was)."""
    status: str = await tx.conn.execute(
        """DELETE FROM push_subscriptions s WHERE s.tenant_id = $1 AND s.account_id = $2
             AND NOT EXISTS (SELECT 1 FROM sessions ses WHERE ses.id = s.session_id
                             AND ses.revoked_at IS NULL AND ses.expires_at > now())""",
        tenant_id,
        account_id,
    )
    return int(status.rpartition(" ")[2])


async def delete_subscription(tx: Tx, subscription_id: uuid.UUID) -> None:
    await tx.conn.execute("DELETE FROM push_subscriptions WHERE id = $1", subscription_id)


async def touch_subscription(tx: Tx, subscription_id: uuid.UUID) -> None:
    await tx.conn.execute(
        "UPDATE push_subscriptions SET last_sent_at = now() WHERE id = $1", subscription_id
    )


async def list_own(tx: Tx) -> list[Any]:
    """The actor's live subscriptions in the actor's tenant, newest first."""
    return list(
        await tx.conn.fetch(
            """SELECT s.id, s.endpoint, s.created_at, s.last_sent_at
               FROM push_subscriptions s JOIN sessions ses ON ses.id = s.session_id
               WHERE s.tenant_id = cl_tenant_id() AND s.account_id = cl_account_id()
                 AND ses.revoked_at IS NULL AND ses.expires_at > now()
               ORDER BY s.created_at DESC, s.id"""
        )
    )


async def count_own(tx: Tx) -> int:
    value: int = await tx.conn.fetchval(
        "SELECT count(*) FROM push_subscriptions WHERE tenant_id = cl_tenant_id()"
        " AND account_id = cl_account_id()"
    )
    return value


async def get_retry_target(tx: Tx, notification_id: uuid.UUID) -> Any:
    """What a retried push needs of its record: still unread, its round and counts, and
    the organisation's name for the words."""
    return await tx.conn.fetchrow(
        """SELECT n.id, n.tenant_id, n.account_id, n.kind, n.conversation_id, n.count,
                  n.priority, n.push_state, n.push_round, n.read_at, t.name AS organisation
           FROM notifications n JOIN tenants t ON t.id = n.tenant_id
           WHERE n.id = $1""",
        notification_id,
    )
