"""One person's client for the clinic scenario: HTTP/1.1 over one kept-alive connection,
and the socket, each call timed from the request's first byte to the answer's last.

By hand, like the load generator's socket client (wsclient.py): the bench runs after
`make install`, without the test suite's HTTP client, and a general client library
would add its own cost to every figure.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import orjson

from careline.bench.server import HOST
from careline.bench.wsclient import WsProtocol

WS_PATH = "/api/v1/ws"
TIMEOUT_S = 60.0
IDLE_S = 2.0  # well inside the server's keep-alive timeout


class ApiError(Exception):
    """An answer the scenario did not expect (the status and the problem's code)."""


class Http:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(HOST, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None

    async def call(self, method: str, path: str, body: Any = None) -> tuple[Any, int]:
        """The JSON answer (None for an empty one) and how long it took (ns). Raises
        ApiError for anything but 2xx."""
        # The server closes a connection idle for its keep-alive timeout (5 s): one idle
        # for a while is replaced before the request, so no request meets a close and no
        # figure includes a reconnect.
        idle = time.monotonic() - self._used
        if self._writer is None or self._reader is None or idle > IDLE_S or self._reader.at_eof():
            await self.close()
            await self._connect()
        assert self._reader is not None
        assert self._writer is not None
        payload = b"" if body is None else orjson.dumps(body)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nUser-Agent: careline-bench\r\n"
            f"Content-Length: {len(payload)}\r\n"
            + ("Content-Type: application/json\r\n" if body is not None else "")
            + "\r\n"
        )
        started = time.monotonic_ns()
        self._writer.write(head.encode("latin-1") + payload)
        async with asyncio.timeout(TIMEOUT_S):
            status, headers = await self._head()
            length = int(headers.get("content-length", "0"))
            raw = await self._reader.readexactly(length) if length else b""
        took = time.monotonic_ns() - started
        self._used = time.monotonic()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        data = orjson.loads(raw) if raw else None
        if not 200 <= status < 300:
            code = data.get("code") if isinstance(data, dict) else None
            raise ApiError(f"{method} {path}: {status} {code}")
        return data, took

    async def _head(self) -> tuple[int, dict[str, str]]:
        assert self._reader is not None
        raw = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            raise ApiError("chunked answers are not expected from careline's JSON API")
        return int(status_line.split()[1]), headers


class Socket:
    """One socket: requests wait for their answer; events are counted."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.proto: WsProtocol | None = None
        self.events: list[dict[str, Any]] = []
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refs = itertools.count(1)

    async def open(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(
            lambda: WsProtocol(HOST, self.port, WS_PATH, self._on_message), HOST, self.port
        )
        self.proto = proto
        await proto.opened
        reply, _ = await self.call({"op": "auth", "token": self.token})
        return reply

    def _on_message(self, payload: bytes) -> None:
        frame = orjson.loads(payload)
        waiter = self._waiting.pop(frame.get("ref") or "", None)
        if frame.get("op") in ("ack", "error") and waiter is not None:
            if not waiter.done():
                waiter.set_result(frame)
        else:
            self.events.append(frame)

    async def call(self, frame: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """The ack's result and how long it took (ns). Raises ApiError for an error."""
        assert self.proto is not None
        ref = str(next(self._refs))
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[ref] = waiter
        started = time.monotonic_ns()
        self.proto.send(orjson.dumps({**frame, "ref": ref}))
        async with asyncio.timeout(TIMEOUT_S):
            answer = await waiter
        took = time.monotonic_ns() - started
        if answer["op"] == "error":
            raise ApiError(f"{frame['op']}: {answer.get('code')}")
        result: dict[str, Any] = answer.get("result") or {}
        return result, took

    async def close(self) -> None:
        if self.proto is None:
            return
        self.proto.close()
        try:
            async with asyncio.timeout(5):
                await self.proto.closed
        except TimeoutError:
            self.proto.abort()
        self.proto = None
