"""careline killed (kill -9) between the commit that made a notification due and its
delivery: after the restart it is delivered, exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from careline.db.database import EMBEDDED_DATABASE
from careline.db.embedded import EmbeddedPostgres
from careline.db.pool import connect_owner
from tests.support.process import DEMO_PASSWORD, CarelineProcess
from tests.support.pushservice import PushService

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


async def _sign_in(http: httpx.AsyncClient, who: str) -> dict[str, str]:
    signed = await http.post(
        "/api/v1/auth/token", json={"email": f"{who}@riverside.demo", "password": DEMO_PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    return {"authorization": f"Bearer {signed.json()['token']}"}


async def test_killed_between_commit_and_delivery_delivers_once_after_restart(
    careline: CarelineProcess, push_service: PushService
) -> None:
    async with httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http:
        lily, sam = await _sign_in(http, "lily"), await _sign_in(http, "sam")
        listed = await http.get("/api/v1/conversations", headers=lily)
        care = next(c for c in listed.json()["items"] if c["kind"] == "care")
        key = (await http.get("/api/v1/push/key", headers=sam)).json()["key"]
        browser = push_service.subscriber(server_key=key)
        made = await http.post(
            "/api/v1/push/subscriptions", json=browser.subscription(), headers=sam
        )
        assert made.status_code == 201, made.text
        owner = await _owner(careline)
        try:
            # The demo's own messages are read (else this one would join their records,
            # some of them held by a client's quiet hours).
            await owner.execute(
                "UPDATE notifications SET read_at = now(), push_state = 'cancelled',"
                " email_state = 'cancelled' WHERE read_at IS NULL"
            )
            sent = await http.post(
                f"/api/v1/conversations/{care['id']}/messages",
                json={"client_msg_id": "crash-1", "text": "before the crash"},
                headers=lily,
            )
            assert sent.status_code == 201, sent.text
            careline.kill()  # committed, due in PUSH_DELAY seconds, nothing sent yet
            before = await _sams_record(owner, care["id"])
            assert (before["push_state"], before["push_round"]) == ("due", 1)
            assert push_service.received(browser) == []

            careline.launch()
            await careline.ready()

            async def sent_state() -> Any:
                row = await _sams_record(owner, care["id"])
                return row if row["push_state"] != "due" else None

            after = await _until(sent_state)
            (pushed,) = push_service.delivered(browser)
            assert pushed["count"] == 1
            assert (after["id"], after["push_state"], after["push_round"]) == (
                before["id"],
                "sent",
                1,
            )
            assert len(push_service.received(browser)) == 1
        finally:
            await owner.close()


async def _sams_record(owner: Any, conversation_id: str) -> Any:
    return await owner.fetchrow(
        "SELECT n.* FROM notifications n JOIN accounts a ON a.id = n.account_id"
        " WHERE n.object_id = $1 AND n.read_at IS NULL AND a.email = 'sam@riverside.demo'",
        uuid.UUID(conversation_id),
    )
