"""Sockets under abuse (issue 16, findings 4 and 7), each while an ordinary user's sends
are acknowledged: consumers that never read, and a reader too slow to drain its buffer,
are aborted within the write deadline and everything they held is freed; one person opening more sockets than the cap loses their
oldest, closed with 4029.

The server runs in this test process. The deadline and the cap are made small on the
running server for one test (monkeypatch restores them): a second server in the same
process would replace the first's process-wide database pool, bus and keyring."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psutil
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri

from careline.kit import limits
from careline.realtime import transport
from careline.realtime.fanout import Hub
from careline.realtime.protocol import CloseCode
from tests.conftest import LogCapture
from tests.realtime.test_live import open_care
from tests.support.ordinary import ordinary_user, report
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect

WRITE_TIMEOUT = 1.0
# Time for the event loop, shared with hundreds of sockets on two busy cores, to get to a
# timer that is due: what "within the deadline" allows beyond the deadline itself.
SCHEDULING_SLACK = 4.0
CONSUMERS = 200
# The flood: 20 of the longest messages, 200 KB per consumer, more than a 4 KiB receive
# buffer and a 16 KiB send buffer (plus uvicorn's 64 KiB) can take. Few, so a per-person
# send budget does not stop it before it makes its point.
FLOOD_MESSAGES = 20
FLOOD_TEXT = "x" * limits.MESSAGE_TEXT_MAX_CHARS


@pytest.fixture
def tune(server: RunningServer) -> Iterator[Callable[..., None]]:
    """Sets settings on the running server, for sockets opened from then on; restores
    them after the test (monkeypatch cannot: starlette's State keeps them in a dict)."""
    app: Any = server.server.config.app
    state = app.state
    original = state.settings

    def tune(**settings: Any) -> None:
        state.settings = original.model_copy(update=settings)

    yield tune
    state.settings = original


def hub_of(server: RunningServer) -> Hub:
    app: Any = server.server.config.app
    hub: Hub = app.state.hub
    return hub


def held_by_server(server: RunningServer, clients: list[ClientConnection]) -> int:
    """How many of these clients' connections the server still holds a descriptor for."""
    ports = {ws.local_address[1] for ws in clients}
    port = server.settings.port
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.fd != -1 and c.laddr and c.laddr.port == port and c.raddr and c.raddr.port in ports
    )


def seq_is(seq: int) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: bool(frame["message"]["seq"] == seq)


async def poll(condition: Callable[[], bool], within: float) -> float:
    """Seconds until `condition` held, polling; fails after `within`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def never_reading(server: RunningServer, token: str) -> ClientConnection:
    """A socket that authenticates, asks for its first request, and never reads again:
    a tiny receive buffer, and a client library that stops pulling after one frame."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.settings.port))
    ws = await websockets.connect(server.ws_url, sock=raw, max_queue=1, max_size=None)
    await ws.send(json.dumps({"op": "auth", "ref": "1", "token": token}))
    await ws.send(json.dumps({"op": "resume", "ref": "2", "conversations": {}}))
    return ws


async def slow_reader(server: RunningServer, token: str) -> tuple[socket.socket, asyncio.Task[str]]:
    """A socket that authenticates and then reads 1 KiB every 0.1 s, discarding it: its
    window keeps opening (the kernel's deadline never fires), but too slowly to drain
    what the server has for it. The task ends with how the connection ended."""
    loop = asyncio.get_running_loop()
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await loop.sock_connect(raw, ("127.0.0.1", server.settings.port))
    client = ClientProtocol(parse_uri(server.ws_url), max_size=None)
    client.send_request(client.connect())
    await loop.sock_sendall(raw, b"".join(client.data_to_send()))
    while client.state is not State.OPEN:
        client.receive_data(await loop.sock_recv(raw, 1024))
    for frame in ({"op": "auth", "ref": "1", "token": token}, {"op": "resume", "ref": "2"}):
        client.send_text(json.dumps({"conversations": {}, **frame}).encode())
    await loop.sock_sendall(raw, b"".join(client.data_to_send()))

    async def read_slowly() -> str:
        try:
            while await loop.sock_recv(raw, 1024):
                await asyncio.sleep(0.1)  # the reader's pace: this is what is slow
        except ConnectionResetError:
            return "reset"
        return "closed"

    return raw, loop.create_task(read_slowly())


async def test_consumers_that_never_read_are_aborted_and_everything_they_held_is_freed(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    tune: Callable[..., None],
    log_capture: LogCapture,
) -> None:
    protocol = server.server.config.ws_protocol_class
    monkeypatch.setattr(protocol, "write_timeout", WRITE_TIMEOUT)
    aborts = transport.AbortLog(every=1.0)
    monkeypatch.setattr(protocol, "aborts", aborts)
    tune(ws_max_sockets_per_person=10_000)
    hub = hub_of(server)
    flooded = await open_care(http, world)  # sam and lily
    quiet = await open_care(http, world, staff="jo", client="tom")
    lily = world["lily"].account_id
    first_line = len(log_capture.lines)
    async with ordinary_user(server, world["jo"], quiet) as latencies:
        async with connect(server.ws_url, world["sam"].token) as sam:
            handlers, uvicorn_connections = (
                len(hub.sockets),
                len(server.server.server_state.connections),
            )
            consumers = [await never_reading(server, world["lily"].token) for _ in range(CONSUMERS)]
            await poll(lambda: len(hub.by_account.get(lily, ())) == CONSUMERS, 30)
            assert held_by_server(server, consumers) == CONSUMERS
            # Sam floods the conversation: every consumer's buffers fill.
            for i in range(FLOOD_MESSAGES):
                await sam.request(
                    "message.send", conversation_id=flooded, client_msg_id=f"f{i}", text=FLOOD_TEXT
                )
                sam.take_all("message.sent")
            flood_over = time.monotonic()
            await poll(lambda: lily not in hub.by_account, WRITE_TIMEOUT + SCHEDULING_SLACK)
            # The connections themselves are gone (aborted), not waiting to flush, and the
            # handlers are done: the hub, uvicorn and the kernel hold nothing of theirs.
            await poll(
                lambda: (
                    held_by_server(server, consumers) == 0
                    and len(hub.sockets) == handlers
                    and len(server.server.server_state.connections) <= uvicorn_connections
                ),
                WRITE_TIMEOUT + SCHEDULING_SLACK,
            )
            freed_after = time.monotonic() - flood_over
            # The sender's own socket was never slowed into trouble.
            await sam.request("presence.set", status="online")
        # Logged once per cause, then counted: two lines, not one per socket.
        await poll(lambda: not aborts._timers, 5)
    for ws in consumers:
        ws.transport.abort()
    report(
        f"{CONSUMERS} never-reading consumers freed {freed_after:.1f} s after the flood", latencies
    )
    assert sum(aborts.total.values()) == CONSUMERS
    lines = log_capture.lines[first_line:]
    said = [line for line in lines if "careline.realtime.transport" in line]
    assert len(said) <= 2 * len(aborts.total), said
    assert any(f"count={CONSUMERS - 1}" in line for line in said), said
    assert not [
        line for line in lines if "background task failed" in line or "Exception in" in line
    ]


async def test_a_reader_too_slow_to_drain_its_buffer_is_aborted_at_the_write_deadline(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    protocol = server.server.config.ws_protocol_class
    monkeypatch.setattr(protocol, "write_timeout", WRITE_TIMEOUT)
    monkeypatch.setattr(protocol, "send_buffer_bytes", 16_384)  # the smallest allowed
    aborts = transport.AbortLog(every=1.0)
    monkeypatch.setattr(protocol, "aborts", aborts)
    hub = hub_of(server)
    flooded = await open_care(http, world)
    quiet = await open_care(http, world, staff="jo", client="tom")
    lily = world["lily"].account_id
    async with (
        ordinary_user(server, world["jo"], quiet) as latencies,
        connect(server.ws_url, world["sam"].token) as sam,
    ):
        raw, reading = await slow_reader(server, world["lily"].token)
        await poll(lambda: lily in hub.by_account, 10)
        for i in range(FLOOD_MESSAGES):
            await sam.request(
                "message.send", conversation_id=flooded, client_msg_id=f"f{i}", text=FLOOD_TEXT
            )
            sam.take_all("message.sent")
        await poll(lambda: lily not in hub.by_account, WRITE_TIMEOUT + SCHEDULING_SLACK)
        # Dropped, not closed politely: its close frame could not have got through.
        assert await asyncio.wait_for(reading, WRITE_TIMEOUT + SCHEDULING_SLACK) == "reset"
        raw.close()
    report("a reader too slow to drain its buffer", latencies)
    # One abort, at the deadline: careline's own (the buffer did not drain) or the
    # kernel's TCP_USER_TIMEOUT, which has the same deadline for the bytes it holds and,
    # under load, may be the first to see them stall.
    assert sum(aborts.total.values()) == 1, aborts.total
    assert set(aborts.total) <= {transport.WRITE_STALLED, transport.PEER_TIMEOUT}, aborts.total


async def test_one_person_over_the_socket_cap_loses_the_oldest_socket_with_4029(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    tune: Callable[..., None],
) -> None:
    cap = 3
    tune(ws_max_sockets_per_person=cap)
    conversation_id = await open_care(http, world)
    quiet = await open_care(http, world, staff="jo", client="tom")
    lily = world["lily"]
    async with (
        ordinary_user(server, world["jo"], quiet) as latencies,
        contextlib.AsyncExitStack() as stack,
    ):
        devices = [
            await stack.enter_async_context(connect(server.ws_url, lily.token)) for _ in range(cap)
        ]
        # Three more, one by one: each time the oldest open one is closed, with 4029.
        for i in range(3):
            newest = await stack.enter_async_context(connect(server.ws_url, lily.token))
            oldest = devices.pop(0)
            assert await oldest.closed() == CloseCode.TOO_MANY_SOCKETS
            assert "oldest" in (oldest.ws.close_reason or "")
            devices.append(newest)
            # The others, the newest among them, work: requests and live events.
            sent = await newest.request(
                "message.send", conversation_id=conversation_id, client_msg_id=f"n{i}", text="hi"
            )
            seq = sent["message"]["seq"]
            for device in devices:
                event = await device.next_event("message.sent", where=seq_is(seq))
                assert event["conversation_id"] == conversation_id
                await device.request("presence.set", status="online")
            assert all(d.ws.close_code is None for d in devices)
            assert len(hub_of(server).by_account[lily.account_id]) == cap
    report("a person over the socket cap", latencies)
