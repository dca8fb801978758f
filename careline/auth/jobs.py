"""Background jobs of the auth domain: the hourly prune of the sign-in throttle."""

from __future__ import annotations

import logging

from careline.auth import throttle
from careline.jobs.app import app

log = logging.getLogger(__name__)

QUEUE = "maintenance"


@app.periodic(cron="41 * * * *", periodic_id="auth.prune_throttle")
@app.task(name="auth.prune_throttle", queue=QUEUE)
async def prune_throttle(timestamp: int) -> None:
    """Hourly: throttle rows with nothing left to remember are removed."""
    removed = await throttle.prune()
    if removed:
        log.info("sign-in throttle rows removed", extra={"count": removed})
