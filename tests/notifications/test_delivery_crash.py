"""careline killed (kill -9) between the commit that made a notification due and its
delivery: after the restart it is delivered, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from careline.db.database import EMBEDDED_DATABASE
from careline.db.embedded import EmbeddedPostgres
from careline.db.pool import connect_owner
from tests.support.process import DEMO_PASSWORD, CarelineProcess

PUSH_DELAY = 4.0  # long enough to kill careline before the push is due


@pytest.fixture
async def careline(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CarelineProcess]:
    data_dir: Path = tmp_path_factory.mktemp("notify-crash")
    process = CarelineProcess(
        data_dir,
        database_durable="true",
        notify_push_delay_seconds=str(PUSH_DELAY),
        notify_email_delay_seconds=str(PUSH_DELAY),
    )
    try:
        await process.demo()
        process.launch()
        await process.ready()
        yield process
    finally:
        process.cleanup()


async def _owner(careline: CarelineProcess) -> Any:
    dsn = EmbeddedPostgres(careline.pgdata).dsn(user="postgres", database=EMBEDDED_DATABASE)
    return await connect_owner(dsn)


async def _until(check: Any, within: float = 60) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        got = await check()
        if got:
            return got
        assert loop.time() < deadline, f"never happened: {got!r}"
        await asyncio.sleep(0.1)  # a poll: it ends as soon as the check holds


async def test_killed_between_commit_and_delivery_delivers_once_after_restart(
    careline: CarelineProcess,
) -> None:
    async with httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http:
        signed = await http.post(
            "/api/v1/auth/token", json={"email": "sam@riverside.demo", "password": DEMO_PASSWORD}
        )
        auth = {"authorization": f"Bearer {signed.json()['token']}"}
        listed = await http.get("/api/v1/conversations", headers=auth)
        care = next(c for c in listed.json()["items"] if c["kind"] == "care")
        owner = await _owner(careline)
        try:
            # Nobody in the demo sleeps through this test (clients' quiet hours off), and
            # the demo's own messages are read (else this one would join their records).
            await owner.execute(
                "UPDATE notifications SET read_at = now(), push_state = 'cancelled',"
                " email_state = 'cancelled' WHERE read_at IS NULL"
            )
            await owner.execute(
                "INSERT INTO notification_defaults (tenant_id, audience, push, email, digest,"
                " quiet_hours, quiet_start, quiet_end, time_zone)"
                " SELECT id, 'clients', true, true, 'weekly', false, '21:00', '07:30', 'UTC'"
                " FROM tenants"
            )
            sent = await http.post(
                f"/api/v1/conversations/{care['id']}/messages",
                json={"client_msg_id": "crash-1", "text": "before the crash"},
                headers=auth,
            )
            assert sent.status_code == 201, sent.text
            careline.kill()  # committed, due in PUSH_DELAY seconds, nothing sent yet
            due = await owner.fetch(
                "SELECT id, push_state, push_round FROM notifications"
                " WHERE object_id = $1 AND read_at IS NULL",
                care["id"],
            )
            assert due
            assert {r["push_state"] for r in due} == {"due"}

            careline.launch()
            await careline.ready()

            async def settled() -> list[Any] | None:
                rows = await owner.fetch(
                    "SELECT id, push_state, push_round, email_state FROM notifications"
                    " WHERE object_id = $1 AND read_at IS NULL",
                    care["id"],
                )
                done = all(r["push_state"] != "due" and r["email_state"] != "due" for r in rows)
                return list(rows) if done else None

            after = await _until(settled)
            assert {r["id"] for r in after} == {r["id"] for r in due}
            assert {r["push_round"] for r in after} == {1}
            assert {r["push_state"] for r in after} <= {"sent", "off"}
        finally:
            await owner.close()
