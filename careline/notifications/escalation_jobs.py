"""The periodic job of unread escalation (escalation.py): every minute, tell what has
waited past its organisation's threshold and close what staff have read since. Safe on
any number of nodes at once: each stage of a waiting message is claimed before it is
told."""

from __future__ import annotations

from careline.jobs.app import app
from careline.notifications import escalation

QUEUE = "notifications"


@app.periodic(cron="* * * * *", periodic_id="notifications.escalate")
@app.task(name="notifications.escalate", queue=QUEUE)
async def escalate(timestamp: int) -> None:
    await escalation.sweep()
