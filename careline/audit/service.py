"""The audit's public API: record an access or a change inside the transaction that makes
it, and write a transaction's entries in one statement just before its COMMIT.

An entry holds ids, counts and closed words only (`actions.py` names which), plus the
stated reason of a break-glass step, encrypted under the organisation's data key. An
access that is refused raises before anything is recorded, and one that rolls back takes
its entries with it: the audit shows exactly what was committed.

Raises InvalidInput (`reason_required`, `reason_too_long`) for a break-glass step without
a usable reason; an unknown action or a detail outside its action's keys is a programming
error (AssertionError), found by the tests.
"""

from __future__ import annotations

import re
import uuid

from careline import config
from careline.audit import store
from careline.audit.actions import ACTIONS
from careline.audit.records import DetailValue, Entry
from careline.db.tx import Tx
from careline.keys import service as key_service
from careline.kit import client, clock
from careline.kit.errors import InvalidInput
from careline.kit.ids import new_id

REASON_MAX_CHARS = 500
# A detail string is an id or a word from a closed set (a role, a setting's name).
_WORD = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("say why: a reason is required", code="reason_required")
    if len(text) > REASON_MAX_CHARS:
        raise InvalidInput(
            f"a reason is at most {REASON_MAX_CHARS} characters",
            code="reason_too_long",
            extra={"limit": REASON_MAX_CHARS},
        )
    return text


def _check_detail(action: str, detail: dict[str, DetailValue]) -> None:
    allowed = ACTIONS[action].detail_keys
    for key, value in detail.items():
        assert key in allowed, f"{action} carries no detail {key!r}"
        if isinstance(value, str):
            assert _WORD.match(value) or _is_uuid(value), f"{action}.{key} is not a closed word"
        else:
            assert isinstance(value, int | bool), f"{action}.{key} is not an id, count or word"


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


async def record(
    tx: Tx,
    action: str,
    *,
    tenant_id: uuid.UUID | None = None,
    conversation_id: uuid.UUID | None = None,
    object_id: uuid.UUID | None = None,
    subject_account_id: uuid.UUID | None = None,
    detail: dict[str, DetailValue] | None = None,
    reason: str | None = None,
) -> None:
    """Record `action` by the transaction's actor; written just before COMMIT.

    `tenant_id` defaults to the actor's; a system actor acting for no one tenant names it.
    `subject_account_id` is the person the access or change concerns (a member whose role
    changed); a conversation's client is found through `conversation_id`.
    """
    assert action in ACTIONS, f"unknown audit action {action!r}"
    assert not tx.readonly, "an audited access needs a read-write transaction"
    spec = ACTIONS[action]
    detail = detail or {}
    _check_detail(action, detail)
    tenant = tenant_id or tx.actor.tenant
    reason_ct, key_version = None, None
    entry_id = new_id()
    if spec.needs_reason:
        text = check_reason(reason)
        reason_ct, key_version = await key_service.keyring().encrypt(
            tx, tenant, text.encode(), context=reason_context(entry_id)
        )
    if not config.current().audit_enabled:
        return
    seen = client.current()
    tx.audits.append(
        Entry(
            id=entry_id,
            tenant_id=tenant,
            at=clock.now(),
            actor_account_id=tx.actor.account_id,
            actor_role=tx.actor.role.value,
            session_id=tx.actor.session_id,
            action=action,
            conversation_id=conversation_id,
            object_id=object_id,
            subject_account_id=subject_account_id,
            detail=detail,
            reason_ct=reason_ct,
            key_version=key_version,
            source=seen.source if seen else None,
            user_agent=seen.user_agent if seen else None,
        )
    )


def reason_context(entry_id: uuid.UUID) -> str:
    """The additional data that binds a reason's ciphertext to its audit event."""
    return f"audit-reason:{entry_id}"


async def flush(tx: Tx) -> None:
    """Write the transaction's entries (db/tx.py calls this just before COMMIT)."""
    entries, tx.audits = tx.audits, []
    await store.insert_events(tx, entries)


async def internal_prune(tx: Tx, tenant_id: uuid.UUID, *, keep_days: int) -> int:
    """Remove the organisation's sealed events older than its newest checkpoint from
    before `keep_days` ago (docs/audit.md#retention), and record that it did; how many
    went. `tx` acts as the system for `tenant_id`."""
    removed, anchor = await store.prune(tx, tenant_id, keep_days)
    if removed:
        await record(
            tx,
            "audit.retention_removed",
            tenant_id=tenant_id,
            detail={"count": removed, "before_position": anchor + 1},
        )
    return removed


async def list_tenants(tx: Tx, slug: str | None) -> list[tuple[uuid.UUID, str]]:
    """Every organisation (or the one called `slug`): id and slug."""
    return [(r["id"], r["slug"]) for r in await store.list_tenants(tx, slug)]
