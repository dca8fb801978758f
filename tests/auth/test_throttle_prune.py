"""The sign-in throttle forgets: rows whose failures are forgotten and whose budget has
drained are removed by the hourly job, and nothing else is."""

from __future__ import annotations

import datetime as dt
import uuid

from careline.auth import throttle
from careline.db.tx import Actor, transaction
from careline.jobs.app import app
from tests.support.server import RunningServer

_HOUR = dt.timedelta(hours=1)


async def _put(
    key: str, *, failures: int, failed_ago: dt.timedelta, spent: float, spent_ago: dt.timedelta
) -> None:
    async with transaction(Actor.system()) as tx:
        await tx.conn.execute(
            "INSERT INTO login_throttle (key, failures, last_failure_at, spent, spent_at) "
            "VALUES ($1, $2, now() - $3::interval, $4, now() - $5::interval)",
            key,
            failures,
            failed_ago,
            spent,
            spent_ago,
        )


async def _keys_left(keys: list[str]) -> set[str]:
    async with transaction(Actor.system(), readonly=True) as tx:
        rows = await tx.conn.fetch(
            "SELECT key FROM login_throttle WHERE key = ANY($1::text[])", keys
        )
    return {r["key"] for r in rows}


async def test_rows_with_nothing_to_remember_are_removed_and_the_rest_stay(
    server: RunningServer,
) -> None:
    tag = uuid.uuid4().hex[:12]
    keys = {
        # Failures a day old, budget long drained: nothing left to remember.
        "gone_address": f"addr:prune-{tag}-1",
        "gone_device": f"dev:prune-{tag}",
        # Failures still remembered.
        "recent_failures": f"addr:prune-{tag}-2",
        # Failures forgotten, but 20 sign-ins 10 minutes ago: at 20 an hour the budget
        # still holds about 17 of them.
        "budget_held": f"acct:prune-{tag}",
    }
    await _put(
        keys["gone_address"], failures=5, failed_ago=25 * _HOUR, spent=3, spent_ago=25 * _HOUR
    )
    await _put(
        keys["gone_device"], failures=2, failed_ago=30 * _HOUR, spent=0, spent_ago=30 * _HOUR
    )
    await _put(keys["recent_failures"], failures=3, failed_ago=_HOUR, spent=0, spent_ago=25 * _HOUR)
    await _put(
        keys["budget_held"],
        failures=0,
        failed_ago=25 * _HOUR,
        spent=20,
        spent_ago=dt.timedelta(minutes=10),
    )

    removed = await throttle.prune()

    assert removed >= 2
    assert await _keys_left(list(keys.values())) == {
        keys["recent_failures"],
        keys["budget_held"],
    }


def test_the_prune_runs_as_an_hourly_job() -> None:
    app.perform_import_paths()  # type: ignore[no-untyped-call]
    assert "auth.prune_throttle" in app.tasks
    periodic = [
        p
        for p in app.periodic_registry.periodic_tasks.values()
        if p.task.name == "auth.prune_throttle"
    ]
    assert [p.cron for p in periodic] == ["41 * * * *"]
