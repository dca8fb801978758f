"""SQL for unread escalation (this domain owns the escalations table; to find what
waits it reads conversations, participants, messages, memberships and care
relationships, ids and times only, as the system).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx


async def escalating_tenants(tx: Tx) -> list[Any]:
    """Organisations that turned escalation on, with their calendars (as the system)."""
    return list(
        await tx.conn.fetch(
            """SELECT id, escalation_hours, escalation_admin_hours, time_zone, work_start,
                      work_end, work_days
               FROM tenants WHERE escalation_hours IS NOT NULL ORDER BY id"""
        )
    )


async def waiting(
    tx: Tx, tenant_id: uuid.UUID, *, written_before: dt.datetime, last_stage: str
) -> list[Any]:
    """Conversations of the tenant whose first message from a client or guardian above
    every staff participant's read watermark was written before `written_before`, and
    has not had its `last_stage` yet: the conversation, that message's seq and time, and
    the client it is about."""
    return list(
        await tx.conn.fetch(
            """
            SELECT c.id AS conversation_id, w.seq, w.created_at,
                   coalesce(c.client_id, w.client_id) AS client_id
            FROM conversations c
            CROSS JOIN LATERAL (
              SELECT coalesce(max(p.read_seq), 0) AS read_seq FROM participants p
              WHERE p.conversation_id = c.id AND p.role IN ('admin', 'staff')) s
            CROSS JOIN LATERAL (
              SELECT m.seq, m.created_at,
                     CASE WHEN mm.role = 'client' THEN m.sender_id END AS client_id
              FROM messages m
              JOIN memberships mm ON mm.tenant_id = m.tenant_id AND mm.account_id = m.sender_id
              WHERE m.conversation_id = c.id AND m.seq > s.read_seq AND m.redacted_at IS NULL
                AND mm.role IN ('client', 'guardian')
              ORDER BY m.seq LIMIT 1) w
            WHERE c.tenant_id = $1 AND c.last_message_seq > s.read_seq
              AND w.created_at <= $2
              AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = c.id
                                AND e.seq = w.seq AND e.stage = $3)
            ORDER BY w.created_at
            """,
            tenant_id,
            written_before,
            last_stage,
        )
    )


async def claim(
    tx: Tx,
    *,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    seq: int,
    stage: str,
    waiting_since: dt.datetime,
    at: dt.datetime,
) -> bool:
    """Record that this stage of this waiting message is being told: False if it was
    already (by an earlier sweep, or another node's at the same time)."""
    row = await tx.conn.fetchrow(
        """INSERT INTO escalations (tenant_id, conversation_id, seq, stage, waiting_since,
                                    told, at)
           VALUES ($1, $2, $3, $4, $5, 0, $6)
           ON CONFLICT (conversation_id, seq, stage) DO NOTHING
           RETURNING seq""",
        tenant_id,
        conversation_id,
        seq,
        stage,
        waiting_since,
        at,
    )
    return row is not None


async def set_told(tx: Tx, conversation_id: uuid.UUID, seq: int, stage: str, told: int) -> None:
    await tx.conn.execute(
        "UPDATE escalations SET told = $4 WHERE conversation_id = $1 AND seq = $2 AND stage = $3",
        conversation_id,
        seq,
        stage,
        told,
    )


async def care_team(
    tx: Tx, tenant_id: uuid.UUID, conversation_id: uuid.UUID, client_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """The client's care-team staff who are enabled members and not staff participants
    of the conversation (those are the ones who have not read it)."""
    if client_id is None:
        return []
    rows = await tx.conn.fetch(
        """SELECT r.staff_id FROM care_relationships r
           JOIN memberships m ON m.tenant_id = r.tenant_id AND m.account_id = r.staff_id
           WHERE r.tenant_id = $1 AND r.client_id = $3 AND m.disabled_at IS NULL
             AND m.role IN ('admin', 'staff')
             AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = $2
                               AND p.account_id = r.staff_id)
           ORDER BY r.staff_id""",
        tenant_id,
        conversation_id,
        client_id,
    )
    return [row["staff_id"] for row in rows]


async def staff_participants(tx: Tx, conversation_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await tx.conn.fetch(
        "SELECT account_id FROM participants WHERE conversation_id = $1"
        " AND role IN ('admin', 'staff') ORDER BY account_id",
        conversation_id,
    )
    return [row["account_id"] for row in rows]


async def admins(tx: Tx, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await tx.conn.fetch(
        """SELECT account_id FROM memberships
           WHERE tenant_id = $1 AND role = 'admin' AND disabled_at IS NULL
           ORDER BY account_id""",
        tenant_id,
    )
    return [row["account_id"] for row in rows]


async def resolve(
    tx: Tx, conversation_id: uuid.UUID, *, read_seq: int, at: dt.datetime
) -> list[Any]:
    """A staff participant read the conversation up to `read_seq`: escalations of
    messages it covers are over, and the open escalation records about them are read
    (their push or e-mail still due is cancelled; records close with them, so only when
    an escalation closed here). As the system, one statement; returns rows `seen` (the
    records marked read: id, account_id) and, when an escalation closed, `staff` (the
    staff participants, whose inboxes stop showing it: account_id)."""
    return list(
        await tx.conn.fetch(
            """
            WITH over AS (
              UPDATE escalations SET resolved_at = $3
              WHERE conversation_id = $1 AND resolved_at IS NULL AND seq <= $2
              RETURNING seq),
            seen AS (
              UPDATE notifications n SET read_at = now(),
                push_state = CASE WHEN n.push_state = 'due' THEN 'cancelled'
                                  ELSE n.push_state END,
                email_state = CASE WHEN n.email_state = 'due' THEN 'cancelled'
                                   ELSE n.email_state END
              WHERE n.conversation_id = $1 AND n.kind IN ('escalation', 'escalation.admin')
                AND n.read_at IS NULL AND n.last_seq <= $2 AND EXISTS (SELECT 1 FROM over)
              RETURNING n.id, n.account_id)
            SELECT 'seen' AS what, id, account_id FROM seen
            UNION ALL
            SELECT 'staff', NULL, p.account_id FROM participants p
            WHERE p.conversation_id = $1 AND p.role IN ('admin', 'staff')
              AND EXISTS (SELECT 1 FROM over)
            """,
            conversation_id,
            read_seq,
            at,
        )
    )


async def unresolved(tx: Tx, tenant_id: uuid.UUID) -> list[Any]:
    """Escalations still open whose message a staff participant has read since (a read
    the prompt path missed): conversation and the staff watermark."""
    return list(
        await tx.conn.fetch(
            """
            SELECT e.conversation_id, max(s.read_seq) AS read_seq
            FROM escalations e
            CROSS JOIN LATERAL (
              SELECT coalesce(max(p.read_seq), 0) AS read_seq FROM participants p
              WHERE p.conversation_id = e.conversation_id AND p.role IN ('admin', 'staff')) s
            WHERE e.tenant_id = $1 AND e.resolved_at IS NULL AND e.seq <= s.read_seq
            GROUP BY e.conversation_id
            """,
            tenant_id,
        )
    )


async def waiting_since(tx: Tx, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """For the staff inbox: since when each of these conversations has waited, for those
    escalated and not yet read."""
    rows = await tx.conn.fetch(
        """SELECT conversation_id, min(waiting_since) AS since FROM escalations
           WHERE conversation_id = ANY($1::uuid[]) AND resolved_at IS NULL
           GROUP BY conversation_id""",
        conversation_ids,
    )
    return {row["conversation_id"]: row["since"] for row in rows}


async def any_open(tx: Tx, conversation_id: uuid.UUID, *, read_seq: int) -> bool:
    """Whether a message up to `read_seq` of the conversation is escalated and open."""
    return bool(
        await tx.conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM escalations WHERE conversation_id = $1"
            " AND resolved_at IS NULL AND seq <= $2)",
            conversation_id,
            read_seq,
        )
    )
