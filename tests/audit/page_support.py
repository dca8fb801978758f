"""Putting events in the audit the way careline does: `audit_service.record` inside a
real transaction of the person acting, with the address and user agent of a request."""

from __future__ import annotations

import uuid
from typing import Any

from careline.audit import service as audit_service
from careline.db.tx import transaction
from careline.kit import client
from tests.support.world import Persona

SOURCE = "203.0.113.7"
AGENT = "AuditTest/1.0"


async def record(who: Persona, action: str, **fields: Any) -> None:
    """One committed audit event by `who`, as if made while serving their request."""
    client.use_scope({"client": (SOURCE, 4242), "headers": [(b"user-agent", AGENT.encode())]})
    async with transaction(who.actor) as tx:
        await audit_service.record(tx, action, **fields)


def ids(page: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(action, conversation) of each item, in the order the page gives them."""
    return [(i["action"], i["conversation_id"]) for i in page["items"]]


def uid(value: str) -> uuid.UUID:
    return uuid.UUID(value)
