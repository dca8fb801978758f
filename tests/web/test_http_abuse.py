"""The HTTP layer under abuse (issue 16, findings 2 and 5): header floods, slowloris,
slow bodies, undelivered uploads and connection floods are cut off with their
documented status and code (docs/limits.md#http-connections), while an ordinary user's
messages are acknowledged meanwhile. Attacks are raw sockets.

Small deadlines and caps come from a second listener on the session server's app (its
database, hub and keys), built by the same `server_config` with a few settings changed:
the session server itself keeps its defaults for every other test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psutil
import uvicorn
from fastapi import FastAPI

from careline.app import server_config
from careline.kit import limits
from careline.web.protocol import FD_RESERVE, connection_cap
from tests.realtime.test_live import open_care
from tests.support.ordinary import ordinary_user, report
from tests.support.server import RunningServer, free_port
from tests.support.world import World

MIB = 1024 * 1024


@contextlib.asynccontextmanager
async def listener(server: RunningServer, **overrides: Any) -> AsyncIterator[RunningServer]:
    """careline's HTTP server on another port, with `overrides` to its settings, serving
    the session server's running app state."""
    settings = server.settings.model_copy(update={"port": free_port(), **overrides})
    cfg = server_config(settings)
    assert isinstance(cfg.app, FastAPI)
    assert isinstance(server.server.config.app, FastAPI)
    shared = server.server.config.app.state
    cfg.app.state.hub, cfg.app.state.database = shared.hub, shared.database
    cfg.lifespan = "off"  # started already, by the session server
    second = uvicorn.Server(cfg)
    second.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.get_running_loop().create_task(second.serve())
    for _ in range(200):
        if second.started:
            break
        await asyncio.sleep(0.05)
    assert second.started, "the second listener did not start"
    running = RunningServer(settings, second, task)
    try:
        yield running
    finally:
        await running.stop()


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json", self.headers
        problem: dict[str, Any] = json.loads(self.body)
        assert problem["status"] == self.status
        return problem


async def read_response(reader: asyncio.StreamReader, timeout: float) -> Response:
    async def read() -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Response(int(status_line.split()[1]), headers, body)

    return await asyncio.wait_for(read(), timeout)


async def dial(
    server: RunningServer, source: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(
        "127.0.0.1", server.settings.port, local_addr=(source, 0), limit=MIB
    )


def host(server: RunningServer) -> bytes:
    return f"Host: 127.0.0.1:{server.settings.port}\r\n".encode()


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """Everything the server sent until it closed the connection."""
    received = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await asyncio.wait_for(reader.read(65536), timeout):
            received += chunk
    return received


async def care_of(server: RunningServer, world: World) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        return await open_care(http, world)


# Finding 2: headers


async def _flood_headers(server: RunningServer, total: int) -> tuple[Response, int]:
    """One connection streaming `total` bytes of one header value; the answer, and how
    much of the flood the server let in before it stopped reading."""
    reader, writer = await dial(server)
    writer.write(b"GET /health HTTP/1.1\r\n" + host(server) + b"X-Flood: ")
    chunk = b"a" * 65536
    sent = [0]

    async def flood() -> None:
        with contextlib.suppress(ConnectionError):
            while sent[0] < total:
                writer.write(chunk)
                await writer.drain()
                sent[0] += len(chunk)

    flooding = asyncio.get_running_loop().create_task(flood())
    try:
        response = await read_response(reader, 30)
    finally:
        flooding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flooding
        writer.close()
    return response, sent[0]


async def _peak_rss(stop: asyncio.Event, seen: list[int]) -> None:
    me = psutil.Process()
    while not stop.is_set():
        seen.append(me.memory_info().rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


async def test_a_header_flood_is_cut_off_at_the_limit_with_memory_bounded(
    server: RunningServer, world: World
) -> None:
    """Four connections streaming 64 MiB of headers each grew the server by 255 MiB."""
    care = await care_of(server, world)
    before = psutil.Process().memory_info().rss
    stop, seen = asyncio.Event(), [before]
    watcher = asyncio.get_running_loop().create_task(_peak_rss(stop, seen))
    async with ordinary_user(server, world["sam"], care) as latencies:
        floods = await asyncio.gather(*(_flood_headers(server, 64 * MIB) for _ in range(4)))
    stop.set()
    await watcher
    for response, sent in floods:
        assert response.status == 431
        assert response.problem()["code"] == "headers_too_large"
        assert sent < 64 * MIB, "the server read the whole flood"
    assert max(seen) - before < 32 * MIB, f"grew by {(max(seen) - before) // MIB} MiB"
    assert latencies, "the ordinary user's messages were acknowledged"
    report("header flood x4", latencies)


async def test_ten_thousand_headers_are_refused_with_431(
    server: RunningServer, world: World
) -> None:
    care = await care_of(server, world)
    many = b"".join(b"X-H-%d: 1\r\n" % i for i in range(10_000))
    async with ordinary_user(server, world["sam"], care) as latencies:
        reader, writer = await dial(server)
        writer.write(b"GET /health HTTP/1.1\r\n" + host(server) + many + b"\r\n")
        response = await read_response(reader, 10)
        writer.close()
    assert response.status == 431
    assert response.problem()["code"] == "too_many_headers"
    assert latencies, "the ordinary user's messages were acknowledged"
    report("10,000 headers", latencies)


async def test_a_long_url_is_refused_with_414(server: RunningServer, world: World) -> None:
    care = await care_of(server, world)
    async with ordinary_user(server, world["sam"], care) as latencies:
        reader, writer = await dial(server)
        url = b"/health?q=" + b"a" * server.settings.http_url_max_bytes
        writer.write(b"GET " + url + b" HTTP/1.1\r\n" + host(server) + b"\r\n")
        response = await read_response(reader, 10)
        writer.close()
    assert response.status == 414
    assert response.problem()["code"] == "url_too_long"
    assert latencies, "the ordinary user's messages were acknowledged"
    report("long URL", latencies)


async def test_the_longest_url_careline_itself_asks_for_is_within_the_limit(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    """Presence of a whole page of people (PAGE_MAX ids in the query) is a valid request:
    the URL limit must not refuse it."""
    ids = [str(uuid.uuid4()) for _ in range(limits.PAGE_MAX)]
    response = await http.get(
        "/api/v1/presence", params={"account_id": ids}, headers=world["sam"].auth
    )
    assert response.status_code == 200, response.text


# Finding 5: deadlines


async def _slowloris(server: RunningServer, started: float) -> tuple[bytes, float]:
    """Headers dribbled a few bytes at a time, never finished: what the server answered,
    and when it closed the connection (seconds after `started`)."""
    reader, writer = await dial(server)
    writer.write(b"GET /health HTTP/1.1\r\n" + host(server))

    async def dribble() -> None:
        with contextlib.suppress(ConnectionError):
            for i in range(10_000):
                writer.write(b"X-%d: 1\r\n" % i)
                await writer.drain()
                await asyncio.sleep(0.2)  # the attack: a header every 200 ms

    dribbling = asyncio.get_running_loop().create_task(dribble())
    try:
        received = await closed_by_server(reader, 30)
    finally:
        dribbling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dribbling
        writer.close()
    return received, time.monotonic() - started


async def test_slowloris_connections_are_closed_with_408_within_the_timeout(
    server: RunningServer, world: World
) -> None:
    """300 connections dribbling headers stayed open indefinitely."""
    timeout = 1.0
    async with listener(server, http_headers_timeout_seconds=timeout) as limited:
        care = await care_of(server, world)
        async with ordinary_user(limited, world["sam"], care) as latencies:
            started = time.monotonic()
            results = await asyncio.gather(*(_slowloris(limited, started) for _ in range(300)))
    for received, closed_after in results:
        assert received.startswith(b"HTTP/1.1 408 "), received[:100]
        assert b'"code": "request_timeout"' in received
        # The deadline counts from the request's first byte; the rest is the loaded loop.
        assert closed_after < timeout + 5, closed_after
    assert latencies, "the ordinary user's messages were acknowledged"
    report("slowloris x300", latencies)


async def test_a_connection_that_never_sends_a_byte_is_closed(
    server: RunningServer, world: World
) -> None:
    async with listener(server, http_keepalive_timeout_seconds=1) as limited:
        care = await care_of(server, world)
        async with ordinary_user(limited, world["sam"], care) as latencies:
            started = time.monotonic()
            quiet = [await dial(limited) for _ in range(20)]
            received = await asyncio.gather(*(closed_by_server(r, 10) for r, _ in quiet))
            closed_after = time.monotonic() - started
            for _, writer in quiet:
                writer.close()
    assert received == [b""] * 20  # closed without an answer: there was no request
    assert closed_after < 1 + 5
    assert latencies, "the ordinary user's messages were acknowledged"
    report("idle connections x20", latencies)


async def test_a_body_at_one_byte_a_second_is_answered_408(
    server: RunningServer, world: World
) -> None:
    """A body sent at one byte a second was waited for."""
    async with listener(server, http_body_timeout_seconds=1.0) as limited:
        care = await care_of(server, world)
        async with ordinary_user(limited, world["sam"], care) as latencies:
            reader, writer = await dial(limited)
            writer.write(
                b"POST /api/v1/auth/token HTTP/1.1\r\n"
                + host(limited)
                + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            started = time.monotonic()

            async def trickle() -> None:
                with contextlib.suppress(ConnectionError):
                    for _ in range(1000):
                        writer.write(b" ")
                        await writer.drain()
                        await asyncio.sleep(1)  # the attack: one byte a second

            trickling = asyncio.get_running_loop().create_task(trickle())
            response = await read_response(reader, 15)
            answered_after = time.monotonic() - started
            trickling.cancel()
            writer.close()
    assert response.status == 408
    assert response.problem()["code"] == "request_timeout"
    assert response.headers["connection"] == "close"
    assert answered_after < 1.0 + 5
    assert latencies, "the ordinary user's messages were acknowledged"
    report("slow body", latencies)


async def test_an_upload_declaring_1_gb_is_answered_413_at_once(
    server: RunningServer, world: World
) -> None:
    """The upload endpoint with a declared 1 GB body that never comes got no answer."""
    care = await care_of(server, world)
    sam = world["sam"]
    async with ordinary_user(server, sam, care) as latencies:
        reader, writer = await dial(server)
        writer.write(
            f"POST /api/v1/conversations/{care}/attachments HTTP/1.1\r\n".encode()
            + host(server)
            + f"Authorization: Bearer {sam.token}\r\nX-File-Name: scan.pdf\r\n".encode()
            + b"Content-Length: 1073741824\r\n\r\n"
        )
        response = await read_response(reader, 5)
        writer.close()
    assert response.status == 413
    problem = response.problem()
    assert problem["code"] == "file_too_large"
    assert problem["limit"] == server.settings.file_max_bytes
    assert latencies, "the ordinary user's messages were acknowledged"
    report("1 GB declared upload", latencies)


# Finding 5: connection caps


async def _refused(server: RunningServer, source: str) -> Response:
    reader, writer = await dial(server, source)
    writer.write(b"GET /health HTTP/1.1\r\n" + host(server) + b"\r\n")
    response = await read_response(reader, 10)
    writer.close()
    return response


def _check_503(response: Response) -> None:
    assert response.status == 503
    assert response.problem()["code"] == "too_many_connections"
    assert int(response.headers["retry-after"]) == response.problem()["retry_after"] > 0
    assert response.headers["connection"] == "close"


async def _health(server: RunningServer, source: str) -> int:
    reader, writer = await dial(server, source)
    writer.write(b"GET /health HTTP/1.1\r\n" + host(server) + b"\r\n")
    response = await read_response(reader, 10)
    writer.close()
    return response.status


async def test_connections_over_the_cap_for_one_address_get_503(
    server: RunningServer, world: World
) -> None:
    cap = 6
    async with listener(
        server,
        http_connections_per_address=cap,
        http_keepalive_timeout_seconds=60,
        trusted_proxies=["127.0.0.9/32"],
    ) as limited:
        care = await care_of(server, world)
        # The ordinary user's socket is one of 127.0.0.1's connections.
        async with ordinary_user(limited, world["sam"], care) as latencies:
            held = [await dial(limited) for _ in range(cap - 1)]
            _check_503(await _refused(limited, "127.0.0.1"))
            assert await _health(limited, "127.0.0.2") == 200  # another address is not
            # A trusted proxy carries everyone's connections: not capped per address.
            via_proxy = [await dial(limited, "127.0.0.9") for _ in range(cap + 2)]
            assert await _health(limited, "127.0.0.9") == 200
            held.pop()[1].close()  # one closes: one more may open
            assert await _poll_until_admitted(limited, "127.0.0.1")
            for _, writer in held + via_proxy:
                writer.close()
    assert latencies, "the ordinary user's messages were acknowledged"
    report("per-address cap", latencies)


async def _poll_until_admitted(server: RunningServer, source: str) -> bool:
    """The server sees a closed connection a moment after the client closes it."""
    for _ in range(100):
        reader, writer = await dial(server, source)
        writer.write(b"GET /health HTTP/1.1\r\n" + host(server) + b"\r\n")
        response = await read_response(reader, 10)
        writer.close()
        if response.status == 200:
            return True
        _check_503(response)
        await asyncio.sleep(0.05)
    return False


async def test_connections_over_the_total_cap_get_503(server: RunningServer, world: World) -> None:
    async with listener(
        server,
        http_connections_per_address=4,
        http_connections_max=8,
        http_keepalive_timeout_seconds=60,
    ) as limited:
        care = await care_of(server, world)
        async with ordinary_user(limited, world["sam"], care) as latencies:  # one of the 8
            held = [await dial(limited, "127.0.0.2") for _ in range(4)]
            held += [await dial(limited, "127.0.0.3") for _ in range(3)]
            _check_503(await _refused(limited, "127.0.0.4"))  # its first, but the 9th in all
            for _, writer in held:
                writer.close()
            assert await _poll_until_admitted(limited, "127.0.0.4")
    assert latencies, "the ordinary user's messages were acknowledged"
    report("total cap", latencies)


def test_the_total_cap_stays_within_the_open_file_limit() -> None:
    """Past the open-file limit accept() itself fails and nobody is answered: the cap
    is clamped below it, keeping descriptors for the database, files and children."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_cap(soft * 10) == soft - FD_RESERVE
    assert connection_cap(soft - FD_RESERVE) == soft - FD_RESERVE
