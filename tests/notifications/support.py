"""Helpers of the notification delivery tests: short delays, and the records as they are."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx

from careline import config
from careline.db.tx import Actor, transaction
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World


@contextlib.contextmanager
def delays(server: RunningServer, push: float = 0.3, email: float = 0.6) -> Iterator[None]:
    """Push and e-mail after `push` and `email` seconds (instead of 30 s and 15 min), on
    top of what the test set already (the `relay` fixture's SMTP settings)."""
    before = config.current()
    config.use(
        before.model_copy(
            update={"notify_push_delay_seconds": push, "notify_email_delay_seconds": email}
        )
    )
    try:
        yield
    finally:
        config.use(before)


async def record(world: World, who: str, conversation_id: str) -> Any:
    """The person's newest message record of the conversation (None: there is none)."""
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        return await tx.conn.fetchrow(
            "SELECT * FROM notifications WHERE account_id = $1 AND object_id = $2"
            " ORDER BY created_at DESC LIMIT 1",
            world[who].account_id,
            uuid.UUID(conversation_id),
        )


async def records(world: World, who: str, conversation_id: str) -> list[Any]:
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        return list(
            await tx.conn.fetch(
                "SELECT * FROM notifications WHERE account_id = $1 AND object_id = $2",
                world[who].account_id,
                uuid.UUID(conversation_id),
            )
        )


async def settle(world: World, who: str, conversation_id: str, timeout: float = 60) -> Any:
    """Wait until neither channel of the person's record is due any more. The queue is
    the session server's: an earlier test's records coming due at once (hundreds of
    jobs, each a few ms) can be ahead of this one's, so the bound is generous; the poll
    ends as soon as the record is settled."""
    return await until(
        lambda: record(world, who, conversation_id),
        lambda r: r is not None and "due" not in (r["push_state"], r["email_state"]),
        timeout=timeout,
    )


async def until(
    read: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], timeout: float = 15
) -> Any:
    """Poll `read` until `ok` says yes (a poll: it ends as soon as it holds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if ok(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r}"
        await asyncio.sleep(0.05)


async def send(
    http: httpx.AsyncClient, world: World, who: str, conversation_id: str, n: int = 1
) -> list[int]:
    seqs = []
    for _ in range(n):
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": uuid.uuid4().hex, "text": "private words"},
            headers=world[who].auth,
        )
        assert sent.status_code in (200, 201), sent.text
        seqs.append(sent.json()["seq"])
    return seqs


async def set_preferences(world: World, who: str, **values: Any) -> None:
    """The person's own choices, written as the preferences API would store them."""
    columns = ", ".join(values)
    params = ", ".join(f"${i + 3}" for i in range(len(values)))
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            f"INSERT INTO notification_preferences (tenant_id, account_id, {columns})"
            f" VALUES ($1, $2, {params}) ON CONFLICT (tenant_id, account_id) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in values),
            world.tenant_id,
            world[who].account_id,
            *values.values(),
        )


async def open_awake(http: httpx.AsyncClient, world: World, client: str = "lily") -> str:
    """A care conversation of Sam's with `client`, who has no quiet hours (a client's
    default is 21:00-07:30: these tests must not depend on the hour they run at)."""
    conversation_id = await open_care(http, world, client=client)
    await set_preferences(world, client, quiet_hours=False)
    return conversation_id
