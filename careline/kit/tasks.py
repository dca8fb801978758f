"""Background asyncio tasks that never end with an exception nobody reads.

asyncio logs "Task exception was never retrieved" only when a failed task is garbage
collected, long after the fact and without context. Every long-lived task careline
starts goes through `spawn`, which keeps a reference until the task ends and reports
its failure at once: a passing database outage as one line, anything else (a bug) with
its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from careline.kit.errors import DatabaseUnavailable

log = logging.getLogger("careline.tasks")


def spawn(
    coro: Coroutine[Any, Any, Any], *, into: set[asyncio.Task[Any]], name: str
) -> asyncio.Task[Any]:
    """Run `coro` as a task held in `into` until it is done."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    into.add(task)
    task.add_done_callback(into.discard)
    task.add_done_callback(report)
    return task


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` (if any) and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def report(task: asyncio.Task[Any]) -> None:
    """Done callback: read a task's outcome and log a failure (ids only, never data)."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is None:
        return
    if isinstance(exc, DatabaseUnavailable):
        log.warning(
            "background task skipped: database unavailable", extra={"task": task.get_name()}
        )
        return
    log.error("background task failed", extra={"task": task.get_name()}, exc_info=exc)
