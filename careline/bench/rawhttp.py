"""HTTP/1.1 by hand for the attacks of `careline bench abuse`: requests no client
library would send (headers that never end, bodies that trickle or never come), each
step under a deadline so an attack ends at its bound whatever the server does."""

from __future__ import annotations

import asyncio
import contextlib

from careline.bench.server import HOST

OPEN = "open_at_bound"  # the server neither answered nor closed by the attack's bound


class Conn:
    """One raw connection: write what the attack wants, read the status if one comes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._status: asyncio.Task[str] = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, port: int, *, within: float = 5.0) -> Conn:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), within)
        return cls(reader, writer)

    async def _read(self) -> str:
        try:
            line = await self.reader.readline()
        except (ConnectionError, OSError):
            return "reset"
        if not line:
            return "closed"
        parts = line.split()
        return parts[1].decode("ascii", "replace") if len(parts) > 1 else "garbled"

    @property
    def answered(self) -> bool:
        return self._status.done()

    async def write(self, data: bytes, *, within: float) -> bool:
        """False when the server stopped taking bytes (or closed) within `within` s."""
        if self.writer.is_closing():
            return False
        try:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), within)
        except (ConnectionError, OSError, TimeoutError):
            return False
        return True

    async def outcome(self, *, wait: float = 0.0) -> str:
        """The status the server sent, `closed`/`reset`, or OPEN."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._status), max(wait, 0.001))
        return self._status.result() if self._status.done() else OPEN

    def abort(self) -> None:
        self._status.cancel()
        transport = self.writer.transport
        with contextlib.suppress(Exception):
            transport.abort()


def start(port: int, method: str, path: str) -> bytes:
    """A request line and Host, the headers left open."""
    return f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode("latin-1")


def head(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    """A request line and headers, ended (careline answers only to its own Host)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "User-Agent: careline-bench"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def request(port: int, data: bytes, *, within: float) -> str:
    """One whole request on its own connection (`Connection: close` is in `data`); its
    status, `closed`, `reset`, `timeout` or `refused`."""
    try:
        conn = await Conn.open(port, within=within)
    except (OSError, TimeoutError):
        return "refused"
    try:
        if not await conn.write(data, within=within):
            return await conn.outcome(wait=1.0)
        status = await conn.outcome(wait=within)
        return "timeout" if status == OPEN else status
    finally:
        conn.abort()
