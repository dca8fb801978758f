"""Background job of the digests: every ten minutes, the digests due in people's
mornings (careline/notifications/digests.py). Importing this module also registers the
e-mail channel with careline/notifications/channels.py."""

from __future__ import annotations

import datetime as dt
import logging

import careline.notifications.email_channel  # noqa: F401 - registers the e-mail channel
from careline.jobs.app import app
from careline.notifications import digests

log = logging.getLogger(__name__)

QUEUE = "mail"


@app.periodic(cron="*/10 * * * *", periodic_id="notifications.digests")
@app.task(name="notifications.digests", queue=QUEUE)
async def send_digests(timestamp: int) -> None:
    """Every ten minutes: digests whose morning it is, at the time the run was due (a
    late run still sends what was due then, never what was not)."""
    sent = await digests.send_due(now=dt.datetime.fromtimestamp(timestamp, dt.UTC))
    if sent:
        log.info("digests sent", extra={"count": sent})
