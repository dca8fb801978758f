"""The job queue as the dashboard, /metrics and the alerts see it: per task, how many
jobs wait and how long the oldest has waited. Task names only: jobs carry ids, and
neither is shown."""

from __future__ import annotations

from careline.db.tx import Tx
from careline.monitoring import store
from careline.monitoring.records import QueueState


async def states(tx: Tx) -> list[QueueState]:
    """Each task with waiting (due, not yet started) jobs, by task name. A task with
    none waiting is left out. Instance-wide: the queue is the node's, not a tenant's."""
    return await store.list_queue_states(tx)
