"""ClamAV's clamd over its socket: INSTREAM (the file sent in length-prefixed pieces),
over a unix socket or TCP. Anything but a clear "OK" or "FOUND" is ScannerUnavailable:
the caller keeps the file pending and asks again later (fail closed)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

from careline.attachments.records import ScanResult, Verdict

_PIECE = 64 * 1024
_REPLY_MAX = 4096


class ScannerUnavailable(Exception):
    """clamd is down, too slow, or refused the file (e.g. over StreamMaxLength). The
    message holds a reason code, never file contents or names."""


async def _connect(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    scheme, _, rest = address.partition(":")
    if scheme == "unix":
        return await asyncio.open_unix_connection(rest)
    host, _, port = rest.rpartition(":")
    return await asyncio.open_connection(host, int(port))


async def _read_reply(reader: asyncio.StreamReader) -> str:
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < _REPLY_MAX:
        block = await reader.read(_REPLY_MAX)
        if not block:
            break
        reply += block
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


def parse_reply(reply: str) -> ScanResult:
    """`stream: OK`, or `stream: <signature> FOUND`; anything else is not a verdict."""
    body = reply.removeprefix("stream:").strip()
    if body == "OK":
        return ScanResult(Verdict.CLEAN)
    if body.endswith(" FOUND"):
        return ScanResult(Verdict.INFECTED, body.removesuffix(" FOUND").strip()[:200])
    if "size limit" in body.lower():
        raise ScannerUnavailable("over_scan_limit")
    raise ScannerUnavailable("scanner_error")


async def _stream(writer: asyncio.StreamWriter, chunks: AsyncIterator[bytes]) -> None:
    writer.write(b"zINSTREAM\0")
    async for chunk in chunks:
        for i in range(0, len(chunk), _PIECE):
            piece = chunk[i : i + _PIECE]
            writer.write(struct.pack("!L", len(piece)) + piece)
            await writer.drain()
    writer.write(struct.pack("!L", 0))
    await writer.drain()


async def scan(address: str, chunks: AsyncIterator[bytes], *, limit_seconds: float) -> ScanResult:
    """Stream the file to clamd and return its verdict, or raise ScannerUnavailable."""
    writer: asyncio.StreamWriter | None = None
    reply: asyncio.Task[str] | None = None
    try:
        async with asyncio.timeout(limit_seconds):
            try:
                reader, writer = await _connect(address)
            except OSError:
                raise ScannerUnavailable("scanner_down") from None
            # The reply is read while the file is still going out: clamd answers and
            # hangs up as soon as a limit is hit, and a reply left unread when the
            # connection resets is lost.
            reply = asyncio.ensure_future(_read_reply(reader))
            with contextlib.suppress(ConnectionError):
                await _stream(writer, chunks)
            try:
                return parse_reply(await reply)
            except ConnectionError:
                raise ScannerUnavailable("scanner_hung_up") from None
    except TimeoutError:
        raise ScannerUnavailable("scanner_timeout") from None
    except (ConnectionError, OSError):
        raise ScannerUnavailable("scanner_down") from None
    finally:
        if reply is not None and not reply.done():
            reply.cancel()
        elif reply is not None and not reply.cancelled():
            reply.exception()  # consumed, so asyncio has nothing left to report
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def ping(address: str, *, limit_seconds: float = 2.0) -> bool:
    """Whether clamd answers PING (health checks, tests)."""
    try:
        async with asyncio.timeout(limit_seconds):
            reader, writer = await _connect(address)
            try:
                writer.write(b"zPING\0")
                await writer.drain()
                return await _read_reply(reader) == "PONG"
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
    except (TimeoutError, OSError):
        return False
