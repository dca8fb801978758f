"""The evaluator's loop in each careline process: every `alerts_interval_seconds`, measure
and evaluate the alert rules (careline/monitoring/alerts.py). Every node runs it; the
advisory lock lets one evaluate at a time, and the counts in the database let any node
take the next turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from careline import config
from careline.kit.errors import DatabaseUnavailable
from careline.monitoring import alerts

log = logging.getLogger(__name__)


class Runner:
    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if config.current().alerts_interval_seconds > 0:
            self.task = asyncio.get_running_loop().create_task(self._run(), name="alerts")

    async def _run(self) -> None:
        while True:
            settings = config.current()
            await asyncio.sleep(settings.alerts_interval_seconds or 60)
            if settings.alerts_interval_seconds <= 0:
                continue
            try:
                await alerts.evaluate(await alerts.measure(settings), settings=settings)
            except DatabaseUnavailable:
                log.warning("alerts not evaluated", extra={"reason": "database_unavailable"})
            except Exception:
                log.exception("alerts evaluation failed")  # a bug, shown whole; it runs again

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
