"""`careline audit verify`: walks each organisation's chain, recomputes every hash,
checks every checkpoint's signature with the signing key, and names the first event
changed, removed or moved, and the events written behind the sealer's back.

It reads as careline itself, in short transactions: what the sealer appends while it
walks (beyond the last checkpoint it read) is left for the next run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from careline.audit import chain, store
from careline.audit.records import Checkpoint
from careline.audit.signing import SigningKey
from careline.db.tx import Actor, transaction

_BATCH = 2000
_LOOKAHEAD = 64  # how far on a mismatching event's rightful place is looked for
_INSERTED_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # changed | removed | reordered | rewritten | unsigned | bad_signature | inserted
    position: int | None
    event_id: uuid.UUID | None
    text: str


@dataclass(frozen=True, slots=True)
class TenantResult:
    tenant_id: uuid.UUID
    slug: str
    checked: int
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.findings


Progress = Callable[[str], None]


async def verify(key: SigningKey, *, slug: str | None, progress: Progress) -> list[TenantResult]:
    async with transaction(Actor.system(), readonly=True) as tx:
        tenants = await store.list_tenants(tx, slug)
    results = []
    for row in tenants:
        result = await verify_tenant(row["id"], key, slug=row["slug"], progress=progress)
        results.append(result)
        state = "ok" if result.ok else f"{len(result.findings)} problem(s)"
        progress(f"{result.slug}: {result.checked} events checked, {state}")
    return results


async def verify_tenant(
    tenant_id: uuid.UUID, key: SigningKey, *, slug: str = "", progress: Progress | None = None
) -> TenantResult:
    async with transaction(Actor.system(tenant_id), readonly=True) as tx:
        start, tip, signed = await store.get_chain_bounds(tx, tenant_id)
        checkpoints = await store.list_checkpoints(tx, tenant_id)
    findings = _check_signatures(checkpoints, key)
    if findings:
        return TenantResult(tenant_id, slug, 0, findings)
    if tip > signed:
        # The sealer signs what it chains in the same transaction: checkpoints went.
        text = (
            f"the chain's entries after position {signed} carry no signed checkpoint: "
            "checkpoints were removed"
        )
        return TenantResult(tenant_id, slug, 0, [Finding("unsigned", signed + 1, None, text)])
    checked, walk = await _walk(tenant_id, checkpoints, start, progress)
    findings += walk
    if checkpoints:
        findings += await _inserted(tenant_id, checkpoints[-1].horizon)
    return TenantResult(tenant_id, slug, checked, findings)


def _check_signatures(checkpoints: list[Checkpoint], key: SigningKey) -> list[Finding]:
    for cp in checkpoints:
        message = chain.checkpoint_message(cp.tenant_id, cp.position, cp.hash, cp.horizon, cp.at)
        if cp.key_id != key.key_id:
            text = (
                f"checkpoint at position {cp.position} is signed by key {cp.key_id}, "
                f"not this installation's ({key.key_id})"
            )
            return [Finding("bad_signature", cp.position, None, text)]
        if not key.verifies(message, cp.signature):
            text = (
                f"checkpoint at position {cp.position} does not match its signature: "
                "forged or changed"
            )
            return [Finding("bad_signature", cp.position, None, text)]
    return []


async def _walk(
    tenant_id: uuid.UUID,
    checkpoints: list[Checkpoint],
    start: int | None,
    progress: Progress | None,
) -> tuple[int, list[Finding]]:
    signed = {cp.position: cp for cp in checkpoints}
    end = checkpoints[-1].position if checkpoints else 0
    first = start if start is not None else end + 1
    if first > 1:
        # After retention the chain starts past a checkpoint that anchors it.
        anchor = signed.get(first - 1)
        if anchor is None:
            text = f"the chain's entries before position {first} were removed"
            return 0, [Finding("removed", first - 1, None, text)]
        prev = anchor.hash
    else:
        prev = chain.GENESIS
    position, checked = first - 1, 0
    while position < end:
        async with transaction(Actor.system(tenant_id), readonly=True) as tx:
            rows = await store.list_chain(
                tx, tenant_id, after_position=position, limit=min(_BATCH, end - position)
            )
        if not rows:
            text = f"the chain's entries after position {position} were removed"
            return checked, [Finding("removed", position + 1, None, text)]
        for i, row in enumerate(rows):
            finding = _check_link(row, position + 1, prev, rows[i + 1 : i + 1 + _LOOKAHEAD])
            if finding is None and row["position"] in signed:
                cp = signed[row["position"]]
                if cp.hash != bytes(row["hash"]):
                    finding = Finding(
                        "rewritten",
                        cp.position,
                        None,
                        f"the chain up to position {cp.position} does not end in the hash its "
                        "signed checkpoint holds: it was rewritten after it was sealed",
                    )
            if finding is not None:
                return checked, [finding]
            position, prev = row["position"], bytes(row["hash"])
            checked += 1
        if progress is not None and checked % (_BATCH * 10) == 0:
            progress(f"  {checked} events checked")
    return checked, []


def _check_link(row: Any, expected: int, prev: bytes, ahead: list[Any]) -> Finding | None:
    event_id = row["chained_id"]
    if row["position"] != expected:
        return Finding(
            "removed", expected, None, f"the chain's entry at position {expected} was removed"
        )
    if row["id"] is None:
        return Finding(
            "removed", expected, event_id, f"event {event_id} (position {expected}) was removed"
        )
    if bytes(row["prev_hash"]) != prev:
        return Finding(
            "rewritten",
            expected,
            event_id,
            f"the chain's link at position {expected} (event {event_id}) was changed",
        )
    if chain.link(prev, row) == bytes(row["hash"]):
        return None
    for later in ahead:
        if later["id"] is not None and chain.link(prev, later) == bytes(row["hash"]):
            return Finding(
                "reordered",
                expected,
                later["id"],
                f"event {later['id']} belongs at position {expected} but is at "
                f"{later['position']}: events were reordered",
            )
    return Finding(
        "changed", expected, event_id, f"event {event_id} (position {expected}) was changed"
    )


async def _inserted(tenant_id: uuid.UUID, horizon: int) -> list[Finding]:
    async with transaction(Actor.system(tenant_id), readonly=True) as tx:
        rows = await store.list_unchained_before(
            tx, tenant_id, horizon=horizon, limit=_INSERTED_SHOWN
        )
    return [
        Finding(
            "inserted",
            None,
            row["id"],
            f"event {row['id']} (at {row['at'].isoformat()}) is not in the chain though it is "
            "older than the last seal: it was written behind the sealer's back",
        )
        for row in rows
    ]
