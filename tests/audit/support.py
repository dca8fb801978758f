"""Reading what the audit holds for an organisation, and a client that says who it is."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from careline.db.tx import Actor, transaction
from tests.support.world import Persona

# What the tests' own clients send as their user agent: the audit must keep it.
USER_AGENT = "careline-audit-test/1"


async def audit_events(tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every audit event of an organisation, oldest first, as careline itself reads them."""
    async with transaction(Actor.system(tenant_id)) as tx:
        rows = await tx.conn.fetch(
            "SELECT * FROM audit_events WHERE tenant_id = $1 ORDER BY at, id", tenant_id
        )
    return [dict(row) for row in rows]


async def all_audit_text() -> str:
    """Every audit event of every organisation as text, for looking for what must not
    be there."""
    async with transaction(Actor.system()) as tx:
        rows = await tx.conn.fetch("SELECT audit_events::text AS row FROM audit_events")
    return "\n".join(r["row"] for r in rows)


@asynccontextmanager
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=base_url, timeout=60, headers={"user-agent": USER_AGENT}
    ) as http:
        yield http


def assert_by(event: dict[str, Any], who: Persona) -> None:
    """The event names its actor (account, role, organisation) and where they were."""
    assert event["actor_account_id"] == who.account_id, event
    assert event["actor_role"] == who.role.value, event
    assert event["tenant_id"] == who.tenant_id, event
    assert event["session_id"] is not None, event
    assert str(event["source"]) == "127.0.0.1", event
    assert event["user_agent"] == USER_AGENT, event
