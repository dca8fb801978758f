"""A PostgreSQL outage, for real: a careline of the test's own (`careline serve`, its
embedded PostgreSQL, clamd), whose postmaster the test kills -9 while requests, a socket
and a scan are under way. The outage is a documented, retryable 503; careline restarts
the server itself, and everything (sends, the socket, the job worker) works again
without a restart of careline."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.support import files
from tests.support.process import DEMO_PASSWORD, CarelineProcess
from tests.support.ws import WsClient, WsError, connect

# asyncio's own words for a task that died unseen, and what careline must never print
# per request during an outage.
_NEVER = ("Task exception was never retrieved", "Traceback", "unhandled error", "socket op failed")


@pytest.fixture(scope="module")
async def careline(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CarelineProcess]:
    data_dir: Path = tmp_path_factory.mktemp("outage")
    # Sockets re-check their session every second, so re-checks meet the outage. The
    # server is durable, as shipped: a crash keeps every commit (the queued scan's too).
    process = CarelineProcess(data_dir, ws_session_recheck_seconds="1", database_durable="true")
    try:
        process.clamd.start()
        await process.demo()
        process.launch()
        await process.ready()
        yield process
    finally:
        process.cleanup()


class Staff:
    def __init__(self, token: str, conversation_id: str) -> None:
        self.token = token
        self.auth = {"authorization": f"Bearer {token}"}
        self.conversation_id = conversation_id


@pytest.fixture
async def sam(careline: CarelineProcess) -> Staff:
    async with httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http:
        signed = await http.post(
            "/api/v1/auth/token",
            json={"email": "sam@riverside.demo", "password": DEMO_PASSWORD},
        )
        assert signed.status_code == 200, signed.text
        token = signed.json()["token"]
        listed = await http.get(
            "/api/v1/conversations", headers={"authorization": f"Bearer {token}"}
        )
        care = next(c for c in listed.json()["items"] if c["kind"] == "care")
        return Staff(token, care["id"])


async def _until(what: str, check: Callable[[], Any], within: float = 30) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        found = await check()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(0.05)


def _send(http: httpx.AsyncClient, sam: Staff, text: str) -> Any:
    return http.post(
        f"/api/v1/conversations/{sam.conversation_id}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text},
        headers=sam.auth,
    )


async def _socket_send(ws: WsClient, sam: Staff, client_msg_id: str) -> dict[str, Any]:
    return await ws.request(
        "message.send",
        conversation_id=sam.conversation_id,
        client_msg_id=client_msg_id,
        text="during the outage",
    )


def _assert_clean(log: str) -> None:
    for line in _NEVER:
        assert line not in log, f"{line!r} in the log:\n{log[-4000:]}"


async def test_outage_is_a_retryable_503_then_everything_works_again(
    careline: CarelineProcess, sam: Staff
) -> None:
    mark = careline.log_size()
    async with (
        httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http,
        connect(careline.ws_url, sam.token) as ws,
    ):
        assert (await _send(http, sam, "before")).status_code == 201
        frozen = await careline.crash_postgres()
        try:
            refused = await _until(
                "a 503 for a send",
                lambda: _refused(_send(http, sam, "during the outage")),
            )
            assert refused.json()["code"] == "database_unavailable", refused.text
            assert refused.headers["retry-after"] == "2"
            assert refused.json()["retry_after"] == 2
            with pytest.raises(WsError) as socket_error:
                await _socket_send(ws, sam, "ws-outage-1")
            assert socket_error.value.code == "database_unavailable"
            assert socket_error.value.frame["retry_after"] == 2
            # A socket opened now is told to come back later (1013), not left hanging.
            async with websockets.connect(careline.ws_url) as fresh:
                await fresh.send(json.dumps({"op": "auth", "ref": "1", "token": sam.token}))
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(fresh.recv(), 10)
                assert fresh.close_code == 1013
            ready = await http.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["code"] == "database_unavailable"
            # careline tries to start PostgreSQL again, and says each time why it failed.
            await _until(
                "a restart attempt in the log",
                lambda: _in_log(careline, mark, "embedded PostgreSQL did not start"),
            )
            # Several more refused requests: still one line for the whole outage.
            for _ in range(5):
                assert (await _send(http, sam, "still down")).status_code == 503
        finally:
            frozen.release()
        await careline.ready(within=30)
        # The same socket, never reconnected: the retried send goes through, once.
        sent = await _socket_send(ws, sam, "ws-outage-1")
        assert sent["duplicate"] is False
        again = await _socket_send(ws, sam, "ws-outage-1")
        assert again["duplicate"] is True
        assert (await _send(http, sam, "after")).status_code == 201
    # Closing the socket frees its tasks: one that died unseen would be reported now.
    # careline says the database is back once it has answered for a second.
    async with httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http:

        async def back() -> bool:
            assert (await http.get("/health/ready")).status_code == 200
            return "database reachable again" in careline.log(mark)

        await _until("the database said to be back", back, within=10)
    log = careline.log(mark)
    assert log.count("database unreachable") == 1, log[-4000:]
    assert log.count("database reachable again") == 1, log[-4000:]
    assert log.count("embedded PostgreSQL restarted") == 1, log[-4000:]
    _assert_clean(log)


async def _refused(response: Any) -> httpx.Response | None:
    answered: httpx.Response = await response
    return answered if answered.status_code == 503 else None


async def _unready(http: httpx.AsyncClient) -> bool:
    return (await http.get("/health/ready")).status_code == 503


async def _in_log(careline: CarelineProcess, mark: int, text: str) -> bool:
    return text in careline.log(mark)


async def test_a_scan_pending_during_the_outage_finishes_after_it(
    careline: CarelineProcess, sam: Staff
) -> None:
    mark = careline.log_size()
    careline.clamd.stop()  # the scan waits (and retries) until clamd is back
    async with httpx.AsyncClient(base_url=careline.base_url, timeout=30) as http:
        uploaded = await http.post(
            f"/api/v1/conversations/{sam.conversation_id}/attachments",
            content=files.pdf_page(),
            headers={
                **sam.auth,
                "X-File-Name": "letter.pdf",
                "Content-Type": "application/octet-stream",
            },
        )
        assert uploaded.status_code == 201, uploaded.text
        attachment = f"/api/v1/attachments/{uploaded.json()['id']}"
        await _until("the scan postponed", lambda: _in_log(careline, mark, "scan postponed"))
        frozen = await careline.crash_postgres()
        try:
            await _until("readiness to say so", lambda: _unready(http))
            careline.clamd.start()
        finally:
            frozen.release()
        await careline.ready(within=30)

        async def scanned() -> bool:
            seen = await http.get(attachment, headers=sam.auth)
            return seen.status_code == 200 and seen.json()["state"] == "available"

        await _until("the scan to finish", scanned, within=60)
    log = careline.log(mark)
    assert log.count("database unreachable") == 1, log[-4000:]
    assert "job worker stopped; starting a new one" in log
    _assert_clean(log)
