"""The monitoring's SQL: the job queue's waiting work (procrastinate's own table)."""

from __future__ import annotations

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
