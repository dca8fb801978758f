"""The reports domain's SQL: the activity days, and the month's counts read as careline
(the caller has checked that the actor is an admin of the organisation)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx

# The day is the organisation's, in its own time zone; the answer is when that day ends,
# so the memo knows when to write again.
_NOTE_ACTIVE = """
WITH today AS (
  SELECT (now() AT TIME ZONE t.time_zone)::date AS day, t.time_zone FROM tenants t WHERE t.id = $1
), noted AS (
  INSERT INTO activity_days (tenant_id, day, account_id, role)
  SELECT $1, today.day, $2, $3 FROM today
  ON CONFLICT DO NOTHING
)
SELECT (today.day + 1)::timestamp AT TIME ZONE today.time_zone FROM today
"""


async def insert_activity_day(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, role: str
) -> dt.datetime | None:
    """Note today as one of the person's active days; when today ends for the tenant."""
    ends: dt.datetime | None = await tx.conn.fetchval(_NOTE_ACTIVE, tenant_id, account_id, role)
    return ends


async def get_time_zone(tx: Tx, tenant_id: uuid.UUID) -> str | None:
    zone: str | None = await tx.conn.fetchval(
        "SELECT time_zone FROM tenants WHERE id = $1", tenant_id
    )
    return zone


async def count_active_days(
    tx: Tx, tenant_id: uuid.UUID, first: dt.date, last: dt.date
) -> list[Any]:
    """(day, role, people) for each day in [first, last]."""
    rows: list[Any] = await tx.conn.fetch(
        "SELECT day, role, count(*) AS people FROM activity_days "
        "WHERE tenant_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day, role",
        tenant_id,
        first,
        last,
    )
    return rows


async def count_active_weeks(
    tx: Tx, tenant_id: uuid.UUID, first: dt.date, last: dt.date
) -> list[Any]:
    """(week's Monday, role, distinct people) for the ISO weeks of days in [first, last];
    `first` and `last` are a Monday and a Sunday."""
    rows: list[Any] = await tx.conn.fetch(
        "SELECT date_trunc('week', day)::date AS week, role, count(DISTINCT account_id) AS people"
        " FROM activity_days WHERE tenant_id = $1 AND day BETWEEN $2 AND $3"
        " GROUP BY 1, role",
        tenant_id,
        first,
        last,
    )
    return rows


async def count_active_people(
    tx: Tx, tenant_id: uuid.UUID, first: dt.date, last: dt.date
) -> list[Any]:
    """(role, distinct people) over [first, last]. A person whose role changed in the
    period counts once under each role they were active in."""
    rows: list[Any] = await tx.conn.fetch(
        "SELECT role, count(DISTINCT account_id) AS people FROM activity_days "
        "WHERE tenant_id = $1 AND day BETWEEN $2 AND $3 GROUP BY role",
        tenant_id,
        first,
        last,
    )
    return rows


async def count_messages(
    tx: Tx, tenant_id: uuid.UUID, start: dt.datetime, end: dt.datetime, time_zone: str
) -> list[Any]:
    """(local day, sender's role, messages) for messages sent in [start, end)."""
    rows: list[Any] = await tx.conn.fetch(
        "SELECT (m.created_at AT TIME ZONE $4)::date AS day, mb.role, count(*) AS messages"
        " FROM messages m JOIN memberships mb"
        "   ON mb.tenant_id = m.tenant_id AND mb.account_id = m.sender_id"
        " WHERE m.tenant_id = $1 AND m.created_at >= $2 AND m.created_at < $3"
        " GROUP BY 1, mb.role",
        tenant_id,
        start,
        end,
        time_zone,
    )
    return rows


async def count_files(
    tx: Tx, tenant_id: uuid.UUID, start: dt.datetime, end: dt.datetime, time_zone: str
) -> list[Any]:
    """(local day, files) for files uploaded in [start, end) and shared in a message."""
    rows: list[Any] = await tx.conn.fetch(
        "SELECT (created_at AT TIME ZONE $4)::date AS day, count(*) AS files FROM attachments"
        " WHERE tenant_id = $1 AND message_id IS NOT NULL"
        "   AND created_at >= $2 AND created_at < $3"
        " GROUP BY 1",
        tenant_id,
        start,
        end,
        time_zone,
    )
    return rows


# A client's message "waits" when it is the first from the client's side since the last
# message from staff (or the conversation's first): a run of client messages waits once.
# Its reply is the first later message from staff. Roles are the senders' roles in the
# organisation now (a participant row can be gone; the membership stays).
_WAITING = """
WITH sent AS (
  SELECT m.conversation_id, m.seq, m.created_at,
         mb.role IN ('client', 'guardian') AS from_client
  FROM messages m
  JOIN memberships mb ON mb.tenant_id = m.tenant_id AND mb.account_id = m.sender_id
  JOIN conversations c ON c.id = m.conversation_id
  WHERE m.tenant_id = $1 AND c.client_id IS NOT NULL AND m.created_at < $3
    -- Only conversations with a message in the month (messages_tenant_created).
    AND m.conversation_id IN (
      SELECT conversation_id FROM messages
      WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
    )
), runs AS (
  SELECT *, lag(from_client) OVER (PARTITION BY conversation_id ORDER BY seq) AS after_client
  FROM sent
)
SELECT c.kind, c.client_id, c.staff_id, w.created_at AS waiting_since,
       reply.created_at AS replied_at, reply.sender_id AS replied_by
FROM runs w
JOIN conversations c ON c.id = w.conversation_id
LEFT JOIN LATERAL (
  SELECT r.created_at, r.sender_id FROM messages r
  JOIN memberships rb ON rb.tenant_id = r.tenant_id AND rb.account_id = r.sender_id
  WHERE r.conversation_id = w.conversation_id AND r.seq > w.seq
    AND rb.role IN ('admin', 'staff')
  ORDER BY r.seq LIMIT 1
) reply ON true
WHERE w.from_client AND w.after_client IS DISTINCT FROM true
  AND w.created_at >= $2 AND w.created_at < $3
"""


async def list_waiting(
    tx: Tx, tenant_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> list[Any]:
    """Each client message that began a wait in [start, end), with its first staff reply
    (times and ids only)."""
    rows: list[Any] = await tx.conn.fetch(_WAITING, tenant_id, start, end)
    return rows
