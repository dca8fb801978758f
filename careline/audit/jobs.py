"""Background jobs of the audit: the nightly retention (docs/audit.md#retention).

Safe to run twice: a second run finds nothing older than the retention left.
"""

from __future__ import annotations

import logging

from careline import config
from careline.audit import service as audit_service
from careline.db.tx import Actor, transaction
from careline.jobs.app import app

log = logging.getLogger(__name__)

QUEUE = "maintenance"


async def prune_all(slug: str | None = None) -> int:
    """Apply the retention to every organisation (or one); how many events went."""
    keep_days = config.current().audit_keep_days
    async with transaction(Actor.system(), readonly=True) as tx:
        tenants = await audit_service.list_tenants(tx, slug)
    total = 0
    for tenant_id, _slug in tenants:
        async with transaction(Actor.system(tenant_id)) as tx:
            removed = await audit_service.internal_prune(tx, tenant_id, keep_days=keep_days)
        if removed:
            log.info("audit retention", extra={"tenant_id": str(tenant_id), "count": removed})
        total += removed
    return total


@app.periodic(cron="41 3 * * *", periodic_id="audit.prune")
@app.task(name="audit.prune", queue=QUEUE)
async def prune(timestamp: int) -> None:
    """Every night: audit events past `audit_keep_days` are removed."""
    await prune_all()
