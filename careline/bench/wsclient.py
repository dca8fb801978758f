"""A lean WebSocket client (RFC 6455) for the load generator.

The load generator shares two cores with the server and PostgreSQL it measures, so every
microsecond it spends per frame is taken from them. A general-purpose client library
costs several times more per frame (tasks, futures, queues); this one parses frames in
`data_received` and hands each text payload to a callback, synchronously. It speaks the
protocol as any client must: a real upgrade handshake, masked client frames, answers to
pings and to the close handshake.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import Callable
from typing import cast

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeError(Exception):
    """The server did not switch protocols."""


def _mask(payload: bytes, key: bytes) -> bytes:
    # XOR as one big integer: a C-speed loop instead of a Python one per byte.
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        n, "little"
    )


def encode_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    key = os.urandom(4)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return header + key + _mask(payload, key)


class WsProtocol(asyncio.Protocol):
    """One client socket. `on_message` gets every text or binary message payload."""

    def __init__(self, host: str, port: int, path: str, on_message: Callable[[bytes], None]):
        self._request_key = base64.b64encode(os.urandom(16))
        self._host = f"{host}:{port}"
        self._path = path
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._upgraded = False
        self._close_code: int | None = None

    # asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(
            b"GET " + self._path.encode() + b" HTTP/1.1\r\n"
            b"Host: " + self._host.encode() + b"\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + self._request_key + b"\r\n"
            b"Sec-WebSocket-Version: 13\r\nUser-Agent: careline-bench\r\n\r\n"
        )

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded and not self._finish_handshake():
            return
        self._parse_frames()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionResetError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(self._close_code)

    # sending --------------------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(payload))

    def close(self, code: int = 1000) -> None:
        """Start the close handshake; the server answers and closes TCP."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(code.to_bytes(2, "big"), OP_CLOSE))

    def abort(self) -> None:
        """Drop the connection without a close handshake (a lost network)."""
        if self.transport is not None:
            self.transport.abort()

    # parsing --------------------------------------------------------------------------

    def _finish_handshake(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[: end + 4]
        status, *lines = head.split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
        expected = base64.b64encode(hashlib.sha1(self._request_key + _GUID).digest()).decode()  # noqa: S324 - RFC 6455 mandates SHA-1 here
        if " 101 " not in f"{status} " or headers.get("sec-websocket-accept") != expected:
            self.opened.set_exception(HandshakeError(status))
            assert self.transport is not None
            self.transport.close()
            return False
        self._upgraded = True
        self.opened.set_result(None)
        return True

    def _parse_frames(self) -> None:
        buf = self._buffer
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            if b1 & 0x80:  # servers never mask; a masked frame is a broken server
                raise HandshakeError("server sent a masked frame")
            end = start + length
            if end > size:
                break
            self._frame(b0 & 0x80, b0 & 0x0F, bytes(buf[start:end]))
            pos = end
        if pos:
            del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments.clear()
            self.on_message(payload)
        elif opcode == OP_PING:
            assert self.transport is not None
            self.transport.write(encode_frame(payload, OP_PONG))
        elif opcode == OP_CLOSE:
            self._close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            assert self.transport is not None
            if not self.transport.is_closing():
                self.transport.write(encode_frame(payload[:2], OP_CLOSE))
                self.transport.close()
