"""The job queue: procrastinate on careline's PostgreSQL, and the worker that runs its
jobs inside the careline process (or as separate processes at scale).

The queue connects with psycopg as `careline_app` (no superuser, no BYPASSRLS) and sees
only its own schema, `procrastinate`; jobs do their work through careline's own pool
and transactions, so RLS applies to them like to any request. Jobs carry ids only.

Jobs are deferred right after the transaction that makes them necessary commits. A
crash in between loses no work: each domain's periodic sweep finds rows still waiting
(e.g. attachments still pending a scan) and defers them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

import procrastinate
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from psycopg_pool import AsyncConnectionPool

from careline.kit import clock

log = logging.getLogger(__name__)

SCHEMA = "procrastinate"
TASK_MODULES = ["careline.attachments.jobs", "careline.invitations.jobs"]

app = procrastinate.App(connector=procrastinate.PsycopgConnector(), import_paths=TASK_MODULES)


class RetryLater(Exception):
    """A job could not finish for a passing reason (a service down or slow): run it again
    in `after` seconds. The message is a reason code, never content."""

    def __init__(self, reason: str, *, after: float) -> None:
        super().__init__(reason)
        self.after = after


class RetryWhenAsked(BaseRetryStrategy):
    """Jobs that raise RetryLater run again as often as it takes; other errors are bugs
    and fail the job (the domain's sweep picks the work up again)."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_at=clock.now() + dt.timedelta(seconds=exception.after))
        return None


@dataclass(slots=True)
class Worker:
    pool: AsyncConnectionPool
    task: asyncio.Task[None]

    async def stop(self) -> None:
        # Bounded: with the database already gone, waiting on it would hold up shutdown.
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self.task, 5)
        await app.close_async()
        await self.pool.close(timeout=3)


async def start(app_dsn: str, *, concurrency: int, poll_seconds: float) -> Worker:
    """Open the queue over `app_dsn` (careline_app's login) and run a worker for every
    queue in this process."""
    pool = AsyncConnectionPool(
        app_dsn,
        kwargs={"options": f"-c search_path={SCHEMA}"},
        min_size=1,
        max_size=concurrency + 2,  # the jobs, the periodic deferrer, deferring requests
        open=False,
        check=AsyncConnectionPool.check_connection,
    )
    await pool.open(wait=True)
    await app.open_async(pool)
    task = asyncio.get_running_loop().create_task(
        app.run_worker_async(
            concurrency=concurrency,
            wait=True,
            install_signal_handlers=False,
            name="careline",
            fetch_job_polling_interval=poll_seconds,
            delete_jobs="successful",
        ),
        name="careline-jobs",
    )
    return Worker(pool, task)
