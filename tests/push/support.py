"""Helpers of the push tests: a browser subscribed on the local push service, a message
that makes a notification record, and the Delivery delivery would hand the channel."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from careline.db.tx import Actor, transaction
from careline.notifications import kinds, words
from careline.notifications.channels import Delivery
from tests.support.pushservice import PushService, Subscriber
from tests.support.world import Persona


async def subscribe(
    http: httpx.AsyncClient, push_service: PushService, person: Persona
) -> Subscriber:
    """A browser of `person` subscribed as the web client does: careline's key first."""
    key = (await http.get("/api/v1/push/key", headers=person.auth)).json()["key"]
    browser = push_service.subscriber(server_key=key)
    response = await http.post(
        "/api/v1/push/subscriptions", json=browser.subscription(), headers=person.auth
    )
    assert response.status_code == 201, response.text
    return browser


async def send(http: httpx.AsyncClient, sender: Persona, conversation_id: str, text: str) -> None:
    response = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text},
        headers=sender.auth,
    )
    assert response.status_code in (200, 201), response.text


async def open_record(person: Persona, conversation_id: str) -> Any:
    async with transaction(Actor.system(person.tenant_id), readonly=True) as tx:
        return await tx.conn.fetchrow(
            "SELECT n.*, t.name AS organisation FROM notifications n"
            " JOIN tenants t ON t.id = n.tenant_id"
            " WHERE n.account_id = $1 AND n.conversation_id = $2 AND n.read_at IS NULL",
            person.account_id,
            uuid.UUID(conversation_id),
        )


def delivery_of(record: Any) -> Delivery:
    """What delivery hands the channel for this record (its words from Facts only)."""
    kind = kinds.get(record["kind"])
    return Delivery(
        notification_id=record["id"],
        tenant_id=record["tenant_id"],
        account_id=record["account_id"],
        kind=kind,
        priority=record["priority"],
        round=record["push_round"],
        facts=words.Facts(
            organisation=record["organisation"],
            kind=kind.name,
            count=record["count"],
            link=words.conversation_link(record["tenant_id"], record["conversation_id"]),
        ),
        tag=f"n{record['id'].hex}",
    )


async def attempts_of(record: Any) -> list[tuple[str, str | None, int | None]]:
    async with transaction(Actor.system(record["tenant_id"]), readonly=True) as tx:
        rows = await tx.conn.fetch(
            "SELECT outcome, reason, status FROM notification_attempts"
            " WHERE notification_id = $1 AND channel = 'push' ORDER BY id",
            record["id"],
        )
    return [(r["outcome"], r["reason"], r["status"]) for r in rows]


async def wait_for_attempts(
    record: Any, count: int, *, within: float = 15.0
) -> list[tuple[str, str | None, int | None]]:
    """Poll (bounded) until the channel has recorded `count` tries of this record: the
    push service sees a try before careline has heard its answer."""
    deadline = time.monotonic() + within
    while len(got := await attempts_of(record)) < count:
        assert time.monotonic() < deadline, f"expected {count} attempts, got {got}"
        await asyncio.sleep(0.02)
    return got


async def subscriptions_of(person: Persona) -> int:
    async with transaction(Actor.system(person.tenant_id), readonly=True) as tx:
        count: int = await tx.conn.fetchval(
            "SELECT count(*) FROM push_subscriptions WHERE account_id = $1 AND tenant_id = $2",
            person.account_id,
            person.tenant_id,
        )
    return count


async def retries_pending(record: Any) -> int:
    """push.retry jobs of this record still queued or running."""
    async with transaction(Actor.system(record["tenant_id"]), readonly=True) as tx:
        count: int = await tx.conn.fetchval(
            "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = 'push.retry'"
            " AND args->>'notification_id' = $1 AND status IN ('todo', 'doing')",
            str(record["id"]),
        )
    return count
