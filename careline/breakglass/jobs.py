"""The periodic job of break-glass: note each read-only access that has expired, once
(audit, staff timeline, the other admins). The access itself already ended at its
expiry (row-level security); this only says so. Safe on any number of nodes: each
grant is claimed before it is noted."""

from __future__ import annotations

import datetime as dt

from careline.breakglass import service as breakglass_service
from careline.db.tx import Actor, Role, transaction
from careline.jobs.app import app
from careline.kit import clock

QUEUE = "maintenance"
_BATCH = 100


async def note_expired(*, now: dt.datetime | None = None) -> int:
    """Note every grant past its expiry at `now` (default the clock). Returns how many."""
    at = now or clock.now()
    async with transaction(Actor.system(), readonly=True) as tx:
        due = await breakglass_service.internal_due(tx, now=at, limit=_BATCH)
    noted = 0
    for grant in due:
        # One transaction per grant: claimed, put on the timeline, audited and told
        # together, or not at all. The actor is the system in the grant's organisation,
        # on behalf of the admin who held it (the timeline names them).
        async with transaction(Actor(grant.account_id, grant.tenant_id, Role.SYSTEM)) as tx:
            noted += await breakglass_service.internal_note_expired(tx, grant)
    return noted


@app.periodic(cron="* * * * *", periodic_id="breakglass.expire")
@app.task(name="breakglass.expire", queue=QUEUE)
async def expire(timestamp: int) -> None:
    await note_expired()
