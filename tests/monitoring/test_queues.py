"""Queue depth and age per task, from procrastinate's own table, as careline's app role
reads it. The jobs are written inside a transaction that rolls back, so the session's
worker never sees (or runs) them."""

from __future__ import annotations

import pytest

from careline.db.tx import Actor, transaction
from careline.monitoring import queues
from careline.monitoring.records import QueueState
from tests.support.server import RunningServer


class _RollBack(Exception):
    pass


_DEFER = """
INSERT INTO procrastinate.procrastinate_jobs (queue_name, task_name, args, scheduled_at)
VALUES ('default', $1, '{}', now() + make_interval(secs => $2))
"""


async def test_waiting_jobs_counted_per_task_with_the_oldest_age(server: RunningServer) -> None:
    found: list[QueueState] = []
    with pytest.raises(_RollBack):
        async with transaction(Actor.system()) as tx:
            before = {q.kind: q for q in await queues.states(tx)}
            # procrastinate's triggers name its tables unqualified, as its worker does.
            await tx.conn.execute("SELECT set_config('search_path', 'procrastinate,public', true)")
            for task, offset in (
                ("metrics_test.slow", -90.0),  # due 90 s ago
                ("metrics_test.slow", -10.0),
                ("metrics_test.slow", 600.0),  # not due yet: not waiting
                ("metrics_test.other", -1.0),
                ("metrics_test.later", 600.0),
            ):
                await tx.conn.execute(_DEFER, task, offset)
            found = await queues.states(tx)
            raise _RollBack
    mine = {q.kind: q for q in found if q.kind.startswith("metrics_test.")}
    assert set(mine) == {"metrics_test.slow", "metrics_test.other"}
    slow = mine["metrics_test.slow"]
    assert slow.depth == 2
    assert slow.oldest_age_seconds == pytest.approx(90.0, abs=1.0)
    assert mine["metrics_test.other"].depth == 1
    assert not any(k.startswith("metrics_test.") for k in before)
    assert [q.kind for q in found] == sorted(q.kind for q in found)


async def test_nothing_waiting_reads_as_no_rows_for_that_task(server: RunningServer) -> None:
    async with transaction(Actor.system(), readonly=True) as tx:
        states = await queues.states(tx)
    assert all(q.depth > 0 and q.oldest_age_seconds is not None for q in states)
