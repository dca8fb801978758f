"""Reading the audit, for an organisation's admins: events by filters, newest first,
with who acted (name and role) and the stated reason of a break-glass step decrypted;
"who has opened this client's record". Every read is itself audited (`audit.read`).

Raises Forbidden (`admin_only`) for anyone but an admin of the organisation, NotFound
for a client who is not a member of it, and InvalidInput (`invalid_filter`) for an
unknown action or category or a time range that ends before it starts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from careline.audit import browse_store
from careline.audit import service as audit_service
from careline.audit.actions import ACTIONS
from careline.audit.browse_store import Where
from careline.db.tx import Tx
from careline.keys import service as key_service
from careline.kit.crypto import DecryptionError
from careline.kit.errors import InvalidInput
from careline.tenants import service as tenant_service

CATEGORIES = ("access", "admin", "intervention", "system")
# What counts as opening a client's record: the accesses to clinical data.
RECORD_ACTIONS = sorted(name for name, a in ACTIONS.items() if a.category == "access")


@dataclass(frozen=True, slots=True)
class Filters:
    """What an admin asked to see; ids and times only (an export keeps them as JSON)."""

    actor_id: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    action: str | None = None
    category: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    client_id: uuid.UUID | None = None

    def to_json(self) -> dict[str, str]:
        found = {
            "actor_id": self.actor_id,
            "conversation_id": self.conversation_id,
            "action": self.action,
            "category": self.category,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "client_id": self.client_id,
        }
        return {k: str(v) for k, v in found.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Filters:
        def id_of(key: str) -> uuid.UUID | None:
            return uuid.UUID(data[key]) if key in data else None

        def time_of(key: str) -> dt.datetime | None:
            return dt.datetime.fromisoformat(data[key]) if key in data else None

        return cls(
            actor_id=id_of("actor_id"),
            conversation_id=id_of("conversation_id"),
            action=data.get("action"),
            category=data.get("category"),
            since=time_of("since"),
            until=time_of("until"),
            client_id=id_of("client_id"),
        )


def check_filters(filters: Filters) -> Filters:
    if filters.action is not None and filters.action not in ACTIONS:
        raise InvalidInput(
            f"no audit action {filters.action!r}", code="invalid_filter", extra={"field": "action"}
        )
    if filters.category is not None and filters.category not in CATEGORIES:
        raise InvalidInput(
            f"the category is one of {', '.join(CATEGORIES)}",
            code="invalid_filter",
            extra={"field": "category"},
        )
    for at in (filters.since, filters.until):
        if at is not None and at.tzinfo is None:
            raise InvalidInput(
                "times need a time zone (e.g. 2026-12-02T09:00:00Z)", code="invalid_filter"
            )
    if filters.since and filters.until and filters.until < filters.since:
        raise InvalidInput("`until` is before `since`", code="invalid_filter")
    return filters


async def resolve(tx: Tx, filters: Filters) -> Where:
    """The filters as conditions of the acting organisation (a client must be its member:
    NotFound otherwise, as for any id of another organisation)."""
    tenant_service.require_admin(tx)
    tenant = tx.actor.tenant
    actions: list[str] | None = None
    if filters.action is not None:
        actions = [filters.action]
    if filters.category is not None:
        in_category = [n for n, a in ACTIONS.items() if a.category == filters.category]
        actions = [n for n in (actions or in_category) if n in in_category]
    record: list[uuid.UUID] | None = None
    if filters.client_id is not None:
        await tenant_service.get_member(tx, filters.client_id)
        async with tx.as_system():  # ids of conversations the admin may not be part of
            record = await browse_store.list_record_conversations(tx, tenant, filters.client_id)
    return Where(
        tenant_id=tenant,
        actor_id=filters.actor_id,
        conversation_id=filters.conversation_id,
        actions=actions,
        since=filters.since,
        until=filters.until,
        client_id=filters.client_id,
        record_conversations=record,
        record_actions=RECORD_ACTIONS if record is not None else None,
    )


async def list_events(
    tx: Tx, filters: Filters, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[dict[str, Any]]:
    """One page of events, newest first; records `audit.read` with how many were shown."""
    where = await resolve(tx, check_filters(filters))
    rows = await browse_store.list_events(tx, where, before=before, limit=limit)
    items = await describe(tx, rows)
    await audit_service.record(
        tx,
        "audit.read",
        conversation_id=filters.conversation_id,
        subject_account_id=filters.client_id,
        detail={"count": len(items)},
    )
    return items


async def describe(tx: Tx, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """Events as the page shows them: with the actor's name and the reason in the clear."""
    people = {
        *(r["actor_account_id"] for r in rows if r["actor_account_id"]),
        *(r["subject_account_id"] for r in rows if r["subject_account_id"]),
    }
    members = await tenant_service.members_by_ids(tx, list(people))

    def name(account_id: uuid.UUID | None) -> str | None:
        member = members.get(account_id) if account_id else None
        return member.display_name if member else None

    return [
        {
            "id": r["id"],
            "at": r["at"],
            "action": r["action"],
            "category": ACTIONS[r["action"]].category if r["action"] in ACTIONS else "system",
            "actor_account_id": r["actor_account_id"],
            "actor_name": name(r["actor_account_id"]),
            "actor_role": r["actor_role"],
            "conversation_id": r["conversation_id"],
            "object_id": r["object_id"],
            "subject_account_id": r["subject_account_id"],
            "subject_name": name(r["subject_account_id"]),
            "detail": dict(r["detail"]),
            "reason": await _reason(tx, r),
            "source": r["source"],
            "user_agent": r["user_agent"],
        }
        for r in rows
    ]


async def _reason(tx: Tx, row: asyncpg.Record) -> str | None:
    if row["reason_ct"] is None or row["key_version"] is None:
        return None
    try:
        text = await key_service.keyring().decrypt(
            tx,
            tx.actor.tenant,
            row["reason_ct"],
            version=row["key_version"],
            context=audit_service.reason_context(row["id"]),
        )
    except DecryptionError:
        return None  # a reason that no longer opens is shown as missing, never guessed
    return text.decode()
