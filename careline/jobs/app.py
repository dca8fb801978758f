"""The job queue: procrastinate on careline's PostgreSQL, and the worker that runs its
jobs inside the careline process (or as separate processes at scale).

The queue connects with psycopg as `careline_app` (no superuser, no BYPASSRLS) and sees
only its own schema, `procrastinate`; jobs do their work through careline's own pool
and transactions, so RLS applies to them like to any request. Jobs carry ids only.

Jobs are deferred right after the transaction that makes them necessary commits. A
crash in between loses no work: each domain's periodic sweep finds rows still waiting
(e.g. attachments still pending a scan) and defers them again.

procrastinate's worker stops for good when its connection to PostgreSQL breaks (its
LISTEN side task fails). careline runs it under a supervisor that starts a new worker
after such a stop, with backoff, and hands the jobs the dead worker had taken (left
`doing` when it could not record their end) back to the queue. Jobs that meet a
database outage themselves are retried like RetryLater.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from procrastinate.worker import Worker as QueueWorker
from psycopg_pool import AsyncConnectionPool

from careline.kit import clock
from careline.kit.errors import DATABASE_RETRY_AFTER_SECONDS, DatabaseUnavailable

log = logging.getLogger(__name__)

SCHEMA = "procrastinate"
TASK_MODULES = [
    "careline.attachments.jobs",
    "careline.audit.jobs",
    "careline.audit.export_jobs",
    "careline.auth.jobs",
    "careline.breakglass.jobs",
    "careline.invitations.jobs",
    "careline.notifications.digest_jobs",
    "careline.notifications.escalation_jobs",
    "careline.notifications.jobs",
    "careline.push.jobs",
]

app = procrastinate.App(connector=procrastinate.PsycopgConnector(), import_paths=TASK_MODULES)


class RetryLater(Exception):
    """A job could not finish for a passing reason (a service down or slow): run it again
    in `after` seconds. The message is a reason code, never content."""

    def __init__(self, reason: str, *, after: float) -> None:
        super().__init__(reason)
        self.after = after


class RetryWhenAsked(BaseRetryStrategy):
    """Jobs that raise RetryLater, or meet a database outage, run again as often as it
    takes; other errors are bugs and fail the job (the domain's sweep picks the work up
    again)."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_at=clock.now() + dt.timedelta(seconds=exception.after))
        if isinstance(exception, DatabaseUnavailable):
            after = dt.timedelta(seconds=DATABASE_RETRY_AFTER_SECONDS)
            return RetryDecision(retry_at=clock.now() + after)
        return None


RESTART_BACKOFF = (0.5, 10.0)  # first wait before a new worker, and the cap


@dataclass(slots=True)
class Worker:
    """The supervisor of this process's queue worker."""

    pool: AsyncConnectionPool
    options: dict[str, Any]
    task: asyncio.Task[None] | None = None
    _orphaned: list[int] = field(default_factory=list)

    def start(self) -> None:
        app.perform_import_paths()  # type: ignore[no-untyped-call]
        self.task = asyncio.get_running_loop().create_task(self._run(), name="careline-jobs")

    async def _run(self) -> None:
        delay, cap = RESTART_BACKOFF
        while True:
            worker = QueueWorker(app=app, **self.options)
            started = clock.monotonic()
            try:
                await worker.run()  # type: ignore[no-untyped-call]
                reason = "stopped"
            except (ConnectorException, OSError, DatabaseUnavailable) as exc:
                reason = type(exc).__name__
            except Exception:
                log.exception("job worker failed")  # a bug, shown whole; it runs again
                reason = "error"
            if worker.worker_id is not None:
                self._orphaned.append(worker.worker_id)
            if clock.monotonic() - started > cap:
                delay = RESTART_BACKOFF[0]  # it ran a good while: not a crash loop
            log.warning(
                "job worker stopped; starting a new one",
                extra={"reason": reason, "in_seconds": delay},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, cap)
            await self._requeue_orphaned()

    async def _requeue_orphaned(self) -> None:
        """Jobs a stopped worker had taken stay `doing` unless given back. Forgetting
        the worker leaves its jobs without one, which procrastinate counts as stalled
        (as it does the jobs of workers whose heartbeat stopped): all go back to the
        queue, which is safe because every job is safe to run twice."""
        try:
            while self._orphaned:
                await app.job_manager.unregister_worker(self._orphaned[0])
                self._orphaned.pop(0)
            stalled = list(await app.job_manager.get_stalled_jobs())
            for job in stalled:
                with contextlib.suppress(ConnectorException):  # queued again meanwhile
                    await app.job_manager.retry_job(job)
        except (ConnectorException, OSError):
            return  # still unreachable: the next round tries again
        if stalled:
            log.info("stalled jobs queued again", extra={"count": len(stalled)})

    async def stop(self) -> None:
        # Bounded: with the database already gone, waiting on it would hold up shutdown.
        if self.task is not None:
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
        timeout=10,  # a request waits this long for a connection; the worker then restarts
    )
    await pool.open(wait=True)
    await app.open_async(pool)
    worker = Worker(
        pool,
        {
            "concurrency": concurrency,
            "wait": True,
            "install_signal_handlers": False,
            "name": "careline",
            "fetch_job_polling_interval": poll_seconds,
            "delete_jobs": "successful",
        },
    )
    worker.start()
    return worker
