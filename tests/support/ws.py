"""A test client for the careline socket: requests with refs, and an event inbox."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class WsError(Exception):
    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.code = frame.get("code")
        self.frame = frame


class WsClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.arrived: list[dict[str, Any]] = []  # every event, in arrival order, kept
        self._arrived = asyncio.Event()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refs = itertools.count(1)
        self.ready: dict[str, Any] = {}
        self.resumed: dict[str, Any] = {}
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                ref = frame.get("ref")
                if frame["op"] in ("ack", "error") and ref in self._pending:
                    self._pending.pop(ref).set_result(frame)
                else:
                    self.events.append(frame)
                    self.arrived.append(frame)
                    self._arrived.set()

    async def request(self, op: str, timeout: float = 10, **args: Any) -> dict[str, Any]:
        ref = str(next(self._refs))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        await self.ws.send(json.dumps({"op": op, "ref": ref, **args}, default=str))
        frame = await asyncio.wait_for(future, timeout)
        if frame["op"] == "error":
            raise WsError(frame)
        result: dict[str, Any] = frame["result"]
        return result

    async def next_event(
        self, op: str, *, where: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 5
    ) -> dict[str, Any]:
        """The first not-yet-taken event with this op (and matching `where`)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for i, frame in enumerate(self.events):
                if frame["op"] == op and (where is None or where(frame)):
                    return self.events.pop(i)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                ops = [f["op"] for f in self.events]
                raise AssertionError(f"no {op} event within {timeout}s; have {ops}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def assert_no_event(
        self, op: str, *, within: float = 0.5, where: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        await asyncio.sleep(within)
        found = [f for f in self.events if f["op"] == op and (where is None or where(f))]
        assert not found, f"unexpected {op}: {found}"

    def take_all(self, op: str) -> list[dict[str, Any]]:
        taken = [f for f in self.events if f["op"] == op]
        self.events = [f for f in self.events if f["op"] != op]
        return taken

    async def closed(self, timeout: float = 5) -> int | None:
        """Wait until the server closes the socket; its close code."""
        await asyncio.wait_for(self._reader, timeout)
        await asyncio.wait_for(self.ws.wait_closed(), timeout)
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)


@contextlib.asynccontextmanager
async def connect(
    ws_url: str, token: str, *, resume: dict[str, int] | None = None, **kwargs: Any
) -> AsyncIterator[WsClient]:
    """A socket that authenticated and then resumed, as docs/protocol.md asks of every
    client (live timeline events start at the first request after auth): with `resume`,
    those conversations from those seqs; without, nothing to catch up."""
    async with websockets.connect(ws_url, **kwargs) as ws:
        client = WsClient(ws)
        client.ready = await client.request("auth", token=token)
        client.resumed = await client.request("resume", conversations=resume or {})
        try:
            yield client
        finally:
            await client.close()
