"""The monitoring's SQL: the job queue's waiting work (procrastinate's own table),
operators, and the dashboard's counts of messages (counts only: no text, no sender, no
conversation id leaves these queries)."""

from __future__ import annotations

import datetime as dt
import uuid

from careline.db.tx import Tx
from careline.monitoring.records import QueueState

# Waiting = `todo` and due (a job scheduled for later is not late yet). Its age counts
# from when it became due: its schedule, else when it was deferred.
_QUEUE_STATES = """
SELECT j.task_name,
       count(*) AS depth,
       max(extract(epoch FROM now() - coalesce(j.scheduled_at, d.at)))::float8 AS oldest
FROM procrastinate.procrastinate_jobs j
LEFT JOIN LATERAL (
    SELECT min(e.at) AS at FROM procrastinate.procrastinate_events e
    WHERE e.job_id = j.id AND e.type = 'deferred'
) d ON true
WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
GROUP BY j.task_name
ORDER BY j.task_name
"""


async def list_queue_states(tx: Tx) -> list[QueueState]:
    rows = await tx.conn.fetch(_QUEUE_STATES)
    return [
        QueueState(
            kind=r["task_name"],
            depth=r["depth"],
            oldest_age_seconds=None if r["oldest"] is None else max(0.0, r["oldest"]),
        )
        for r in rows
    ]


async def is_operator(tx: Tx, account_id: uuid.UUID) -> bool:
    found = await tx.conn.fetchval("SELECT 1 FROM operators WHERE account_id = $1", account_id)
    return found is not None


async def insert_operator(tx: Tx, account_id: uuid.UUID) -> bool:
    """True when the account was not an operator yet."""
    status = await tx.conn.execute(
        "INSERT INTO operators (account_id) VALUES ($1) ON CONFLICT DO NOTHING", account_id
    )
    return bool(status.endswith(" 1"))


async def delete_operator(tx: Tx, account_id: uuid.UUID) -> bool:
    status = await tx.conn.execute("DELETE FROM operators WHERE account_id = $1", account_id)
    return bool(status.endswith(" 1"))


async def list_operators(tx: Tx) -> list[str]:
    rows = await tx.conn.fetch(
        "SELECT a.email FROM operators o JOIN accounts a ON a.id = o.account_id ORDER BY 1"
    )
    return [r["email"] for r in rows]


# Messages per clock minute, by minutes ago (0: the minute $1 is in, so far) over the
# last $2 minutes. One
# organisation ($3), or every one ($3 NULL): each through the (tenant_id, created_at)
# index, so the instance reads no more rows than its organisations do.
_ACTIVITY = """
SELECT
  (extract(epoch FROM date_trunc('minute', $1::timestamptz)
                     - date_trunc('minute', m.created_at)) / 60)::int AS ago,
  count(*) AS messages
FROM tenants t
CROSS JOIN LATERAL (
  SELECT created_at FROM messages
  WHERE tenant_id = t.id
    AND created_at >= date_trunc('minute', $1::timestamptz) - make_interval(mins => $2 - 1)
    AND created_at <= $1::timestamptz
) m
WHERE $3::uuid IS NULL OR t.id = $3::uuid
GROUP BY ago
"""

_ACTIVE = """
SELECT count(*) FROM (
  SELECT DISTINCT m.conversation_id
  FROM tenants t
  CROSS JOIN LATERAL (
    SELECT conversation_id FROM messages
    WHERE tenant_id = t.id AND created_at >= $1 AND created_at <= $2
  ) m
  WHERE $3::uuid IS NULL OR t.id = $3::uuid
) c
"""


async def messages_per_minute(
    tx: Tx, *, at: dt.datetime, tenant_id: uuid.UUID | None, minutes: int
) -> list[int]:
    """Messages written in each of the last `minutes` clock minutes up to `at`, oldest
    first, the current (partial) minute last."""
    rows = await tx.conn.fetch(_ACTIVITY, at, minutes, tenant_id)
    counts = [0] * minutes
    for row in rows:
        ago = min(max(row["ago"], 0), minutes - 1)
        counts[minutes - 1 - ago] += row["messages"]
    return counts


async def active_conversations(
    tx: Tx, *, since: dt.datetime, at: dt.datetime, tenant_id: uuid.UUID | None
) -> int:
    found = await tx.conn.fetchval(_ACTIVE, since, at, tenant_id)
    return int(found or 0)
