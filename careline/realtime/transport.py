"""Every socket write has a deadline (issue 16, finding 4).

uvicorn's WebSocket protocol (the sans-I/O one `ws="auto"` picks with `websockets`
installed) waits without end in two places when the peer stops reading:

- `send()` waits for the transport to be writable again, and the transport stays paused
  while the peer's receive window is full, so neither a frame nor the 4008 close frame
  that would end it is ever written;
- `transport.close()` (after the close handshake times out, after a keepalive timeout,
  after the app returns) closes the socket only once its buffer has been flushed: never.

Either way the connection, its file descriptor, its buffers and the app's handler (hub
registration, queue, tasks) are held for good. This subclass gives both a deadline,
`CARELINE_WS_WRITE_TIMEOUT_SECONDS`: output that makes no room for that long (the
transport paused from the moment its buffer went over the high-water mark until it
drained below the low one), or a connection that was closed but is still not gone that
long after, is aborted: the transport is dropped at once, without a closing handshake,
and uvicorn's `connection_lost` wakes the app's handler with a disconnect, so it frees
the rest. `connection_lost` cancels the deadline; nothing is polled.

Bytes the kernel has accepted are out of the transport's sight: left alone, Linux grows a
socket's send buffer to 4 MiB, so a stalled peer's writes all "succeed". Each socket's
send buffer is capped (`CARELINE_WS_SEND_BUFFER_BYTES`), which brings a stall up to the
transport, and `TCP_USER_TIMEOUT` gives the kernel the same deadline for what it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame

from careline.config import Settings

log = logging.getLogger(__name__)

# Why a socket was aborted (the `cause` of the log lines).
WRITE_STALLED = "write_stalled"  # its output made no room within the deadline
CLOSE_STALLED = "close_stalled"  # closed, but its last bytes could not be flushed in time
PEER_TIMEOUT = "peer_timeout"  # the kernel's deadline: sent bytes unacknowledged too long

# Aborts are logged once per cause, then counted: one line per cause per this long.
ABORT_LOG_SECONDS = 60.0


class AbortLog:
    """Logs the first abort of each cause at once, then how many more there were, once
    per `every` seconds: a flood of 2,000 stalled sockets writes two lines, not 2,000."""

    def __init__(self, every: float = ABORT_LOG_SECONDS) -> None:
        self.every = every
        self.total: dict[str, int] = {}  # every abort since start, per cause
        self._pending: dict[str, int] = {}  # aborts not logged yet, per open window
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def aborted(self, cause: str) -> None:
        self.total[cause] = self.total.get(cause, 0) + 1
        if cause in self._timers:
            self._pending[cause] += 1
            return
        log.warning(
            "socket aborted: the peer stopped reading",
            extra={"cause": cause, "repeats_summed_every_seconds": self.every},
        )
        self._pending[cause] = 0
        self._timers[cause] = asyncio.get_running_loop().call_later(self.every, self._flush, cause)

    def _flush(self, cause: str) -> None:
        del self._timers[cause]
        count = self._pending.pop(cause)
        if count:
            log.warning(
                "sockets aborted: the peers stopped reading",
                extra={"cause": cause, "count": count, "seconds": self.every},
            )


class DeadlineWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol with a deadline on every write and on closing.
    `write_timeout` and `aborts` are set per server by `protocol_for`."""

    write_timeout: float = 10.0
    send_buffer_bytes: int = 262_144
    aborts: AbortLog

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn waits a fixed 10 s for the peer's answer to a close frame.
        self.close_timeout = self.write_timeout
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is None:
            return
        with contextlib.suppress(OSError):
            # Left alone, the kernel grows a socket's send buffer to 4 MiB: a peer that
            # stops reading pins that much kernel memory, and the app never sees the
            # stall (every write "succeeds"). Capped, the stall reaches the transport.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer_bytes)
            if hasattr(socket, "TCP_USER_TIMEOUT"):  # Linux: bytes the kernel holds, too
                milliseconds = int(self.write_timeout * 1000)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, milliseconds)

    def _arm(self, cause: str) -> None:
        if self._deadline is None and not self.disconnected:
            self._deadline = self.loop.call_later(self.write_timeout, self._expire, cause)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, cause: str) -> None:
        self._deadline = None
        if self.disconnected:
            return
        self.aborts.aborted(cause)
        # connection_lost follows on the next loop turn and tells the app.
        self.transport.abort()

    # writing: paused over the high-water mark until drained below the low one ---------

    def pause_writing(self) -> None:
        super().pause_writing()
        self._arm(WRITE_STALLED)

    def resume_writing(self) -> None:
        super().resume_writing()
        if not self.transport.is_closing():
            self._disarm()

    # closing: every path that ends in transport.close() -----------------------------

    def _closing(self) -> None:
        # A write deadline already running stays: closing gives a stalled peer no more time.
        if self.transport.is_closing():
            self._arm(CLOSE_STALLED)

    def _close_or_abort(self) -> None:
        """The peer never answered the close frame: close, within the deadline too."""
        self.close_timer = None
        self.transport.close()
        self._closing()

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(self.close_timeout, self._close_or_abort)
        self._closing()

    async def run_asgi(self) -> None:
        await super().run_asgi()
        self._closing()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        self._closing()

    def handle_close(self, event: Frame) -> None:
        super().handle_close(event)
        self._closing()

    def shutdown(self) -> None:
        if self.close_sent and self.close_timer is not None:
            # The app has sent its close frame (careline's drain sends 1001) and waits
            # for the peer's. uvicorn's own would close the TCP connection now: whatever
            # the client sends before it reads the close frame would then be answered
            # with a reset, and a client whose next write meets the reset drops the
            # close frame unread (it sees 1006). The handshake ends as any other does:
            # at the peer's close frame (handle_close), or at the close deadline.
            self.stop_keepalive()
            return
        super().shutdown()
        self._closing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if isinstance(exc, TimeoutError) and not self.disconnected:
            self.aborts.aborted(PEER_TIMEOUT)  # TCP_USER_TIMEOUT: the kernel dropped it
        super().connection_lost(exc)


def protocol_for(settings: Settings) -> type[DeadlineWebSocketProtocol]:
    """The WebSocket protocol class for uvicorn.Config(ws=...), with this server's
    deadline and its own abort log."""
    return type(
        "CarelineWebSocketProtocol",
        (DeadlineWebSocketProtocol,),
        {
            "write_timeout": settings.ws_write_timeout_seconds,
            "send_buffer_bytes": settings.ws_send_buffer_bytes,
            "aborts": AbortLog(),
        },
    )
