"""The sealer: appends each organisation's new audit events to its hash chain and signs
a checkpoint of the chain's end (docs/audit.md#the-chain).

It opens its own transactions (one per organisation per round), so it is a transport
like a job: it runs at start and every `audit_seal_seconds`, on every node, and a
transaction-scoped advisory lock lets one node at a time seal an organisation; the
others skip it for that round.

Only events whose transaction ended before every transaction still running began are
sealed (txid below the snapshot's xmin): a slow transaction that writes an earlier
event later is sealed in a later round, never slipped in behind the seal. A passing
database outage skips a round; the next one catches up.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from careline import config
from careline.audit import chain, store
from careline.audit.records import Checkpoint, Link
from careline.audit.signing import SigningKey
from careline.db.tx import Actor, transaction
from careline.kit import clock, tasks
from careline.kit.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

SEAL_BATCH = 5000  # events chained per organisation per round; the rest go next round


async def seal_tenant(tenant_id: uuid.UUID, key: SigningKey, *, batch: int = SEAL_BATCH) -> int:
    """Chain `tenant_id`'s sealable events and sign the new end; how many were chained
    (0 also when another node holds the organisation's seal)."""
    async with transaction(Actor.system(tenant_id)) as tx:
        if not await store.try_lock_sealer(tx, tenant_id):
            return 0
        last = await store.get_last_checkpoint(tx, tenant_id)
        position, prev, since = (
            (last.position, last.hash, last.horizon) if last else (0, chain.GENESIS, 0)
        )
        rows = await store.list_unsealed(tx, tenant_id, since_horizon=since, limit=batch)
        if not rows:
            return 0
        links = []
        for row in rows:
            position += 1
            hash_ = chain.link(prev, row)
            links.append(Link(position, row["id"], prev, hash_))
            prev = hash_
        # A full batch may have left sealable events behind: keep the old horizon, so
        # the next round still looks at them.
        horizon = since if len(rows) == batch else int(rows[0]["horizon"])
        at = clock.now()
        await store.insert_links(tx, tenant_id, links)
        await store.insert_checkpoint(
            tx,
            Checkpoint(
                tenant_id=tenant_id,
                position=position,
                hash=prev,
                horizon=horizon,
                at=at,
                key_id=key.key_id,
                signature=key.sign(
                    chain.checkpoint_message(tenant_id, position, prev, horizon, at)
                ),
            ),
        )
    return len(links)


async def seal_all(key: SigningKey) -> int:
    """One round over every organisation with events to seal; how many were chained."""
    async with transaction(Actor.system()) as tx:
        tenants = await store.list_tenants_to_seal(tx)
    sealed = 0
    for tenant_id in tenants:
        sealed += await seal_tenant(tenant_id, key)
    return sealed


class Sealer:
    """The background task that seals at start and every `audit_seal_seconds`."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        tasks.spawn(self._run(), into=self._tasks, name="audit sealer")

    async def stop(self) -> None:
        for task in list(self._tasks):
            await tasks.cancel(task)

    async def _run(self) -> None:
        while True:
            try:
                await seal_all(self.key)
            except DatabaseUnavailable:
                log.warning("audit seal postponed", extra={"reason": "database_unavailable"})
            except Exception:  # a bug: say so, and keep sealing the next round
                log.exception("audit seal failed")
            await asyncio.sleep(config.current().audit_seal_seconds)
