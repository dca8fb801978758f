"""careline's HTTP/1.1 protocol: uvicorn's httptools protocol with the limits one
connection may take of the server, all in one place (docs/limits.md#http-connections).

uvicorn has no limit on the request line, header bytes or header count (httptools
gathers a whole header value before it reports it), no deadline for headers or bodies,
and no timer on a connection that never sends a byte; its `limit_concurrency` counts
open connections and running tasks as one number, per server, and answers in plain
text. So careline subclasses the protocol (uvicorn.Config(http=...)):

- bytes are counted as they arrive while headers are incomplete, and the head is cut
  off at its limit (never buffered past it); exact sizes are checked per header;
- a request's head must arrive within a deadline of its first byte, its body must keep
  a minimum rate, and a connection with no request in progress closes after the
  keep-alive timeout (uvicorn's own, also armed when the connection opens);
- open connections, HTTP and WebSocket alike (each holds a file descriptor), are
  capped per client address and in all.

Refusals are application/problem+json with a stable code (docs/errors.md), then the
connection closes: the write side at once, the rest after `LINGER_SECONDS` without
reading, so that a client still sending can read the answer before the reset."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import resource
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from careline.config import Settings
from careline.kit.errors import AppError

log = logging.getLogger("careline.http")

# A refused connection is half-closed at once and fully closed this much later.
LINGER_SECONDS = 1.0
# File descriptors kept back from the connection cap for the database pool, stored
# files, clamd, log files and the checking children's pipes.
FD_RESERVE = 128
# What a refused-for-load client is told to wait, in seconds.
RETRY_AFTER_SECONDS = 5
# Bytes of a request line besides its URL ("OPTIONS " ... " HTTP/1.1\r\n", and the
# blank line that ends the head).
_HEAD_SLACK = 32

_WHY = {
    "url_too_long": (414, "URL too long", "the request line's URL is over {url} bytes"),
    "headers_too_large": (431, "Headers too large", "request headers are over {headers} bytes"),
    "too_many_headers": (431, "Too many headers", "a request has at most {count} headers"),
    "request_timeout": (408, "Request timeout", "the request did not arrive in time"),
    "too_many_connections": (503, "Too many connections", "too many open connections; retry"),
}


@dataclass(frozen=True)
class HttpLimits:
    url_max_bytes: int
    headers_max_bytes: int
    headers_max_count: int
    headers_timeout: float
    body_timeout: float
    body_min_rate: int
    per_address: int
    total: int
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            url_max_bytes=settings.http_url_max_bytes,
            headers_max_bytes=settings.http_headers_max_bytes,
            headers_max_count=settings.http_headers_max_count,
            headers_timeout=settings.http_headers_timeout_seconds,
            body_timeout=settings.http_body_timeout_seconds,
            body_min_rate=settings.http_body_min_bytes_per_second,
            per_address=settings.http_connections_per_address,
            total=connection_cap(settings.http_connections_max),
            trusted=tuple(ipaddress.ip_network(p) for p in settings.trusted_proxies),
        )

    @property
    def head_room(self) -> int:
        """The most bytes a request's head may take before its headers are complete."""
        return self.url_max_bytes + self.headers_max_bytes + _HEAD_SLACK

    def refusal(self, code: str) -> AppError:
        status, title, detail = _WHY[code]
        facts = {"url": self.url_max_bytes, "headers": self.headers_max_bytes}
        return AppError(
            detail.format(count=self.headers_max_count, **facts),
            code=code,
            status=status,
            title=title,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None,
            extra={"retry_after": RETRY_AFTER_SECONDS} if status == 503 else None,
        )


def connection_cap(wanted: int) -> int:
    """`wanted`, or fewer if the process may not open that many files: past the open-file
    limit, accept() itself fails and uvicorn can answer nobody."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or wanted <= soft - FD_RESERVE:
        return wanted
    cap = max(1, soft - FD_RESERVE)
    log.warning("connection cap lowered to the open-file limit", extra={"cap": cap})
    return cap


class Gate:
    """Open connections per client address and in all, for one server."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.total = 0
        self.by_address: Counter[str] = Counter()

    def _capped(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack listener's view of an IPv4 client
        # A proxy is every client's address: its clients are only counted in all.
        return not any(ip in network for network in self.limits.trusted)

    def admit(self, address: str | None) -> tuple[bool, str | None]:
        """(admitted, the key to release later: the address if it is counted)."""
        key = address if address is not None and self._capped(address) else None
        if self.total >= self.limits.total:
            return False, None
        if key is not None and self.by_address[key] >= self.limits.per_address:
            return False, None
        self.total += 1
        if key is not None:
            self.by_address[key] += 1
        return True, key

    def release(self, key: str | None) -> None:
        self.total -= 1
        if key is not None:
            self.by_address[key] -= 1
            if self.by_address[key] <= 0:
                del self.by_address[key]


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the refusal is on the protocol."""


class CarelineHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with careline's limits (see the module docstring).
    Subclassed per server by `http_protocol`, which sets `limits` and `gate`."""

    limits: HttpLimits
    gate: Gate

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.in_head = True  # no request in progress, or reading one's line and headers
        self.head_room = self.limits.head_room
        self.header_count = 0
        self.header_bytes = 0
        self.body_seen = 0
        self.refusal: AppError | None = None
        self.refused = False
        self.admitted = False
        self.gate_key: str | None = None
        self.timer: asyncio.TimerHandle | None = None

    # The connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.admitted, self.gate_key = self.gate.admit(self.client[0] if self.client else None)
        if not self.admitted:
            self._refuse(self.limits.refusal("too_many_connections"))
            return
        # uvicorn arms its keep-alive timer only after a response: a connection that
        # never sends a byte would be held for ever.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self.admitted:
            self.admitted = False
            self.gate.release(self.gate_key)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        room = self.head_room
        if self.in_head and len(data) > room:
            # Feed no more than the head may take; if the head is still not complete,
            # it is too large, and what follows is never held.
            self._feed(data[:room])
            if self.in_head and not self.refused:
                code = "headers_too_large" if self.header_count else "url_too_long"
                self._refuse(self.limits.refusal(code))
            data = data[room:]
            if self.refused or not data:
                return
        elif self.in_head:
            self.head_room -= len(data)
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        protocol = self.transport.get_protocol()
        if protocol is not self:  # upgraded to a WebSocket by an earlier part
            assert isinstance(protocol, asyncio.Protocol)
            protocol.data_received(data)
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self.refusal is not None:
                self._refuse(self.refusal)
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")

    def handle_websocket_upgrade(self) -> None:
        self._cancel_timer()
        super().handle_websocket_upgrade()
        # The socket's protocol now owns the transport; the connection stays counted
        # until that protocol loses it.
        socket_protocol = self.transport.get_protocol()
        lost = socket_protocol.connection_lost
        self.admitted = False
        key = self.gate_key

        def released(exc: Exception | None) -> None:
            self.gate.release(key)
            lost(exc)

        socket_protocol.connection_lost = released  # type: ignore[method-assign]

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_count = self.header_bytes = 0
        self._set_timer(self.limits.headers_timeout, self._head_late)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.url_max_bytes:
            self._stop("url_too_long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        self.header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self.header_count > self.limits.headers_max_count:
            self._stop("too_many_headers")
        if self.header_bytes > self.limits.headers_max_bytes:
            self._stop("headers_too_large")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel_timer()
        self.in_head = False
        super().on_headers_complete()
        if self.parser.should_upgrade() and self._should_upgrade():
            return
        self.body_seen = 0
        self._set_timer(self.limits.body_timeout, self._check_body)

    def on_body(self, body: bytes) -> None:
        self.body_seen += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel_timer()
        self.in_head = True
        self.head_room = self.limits.head_room
        super().on_message_complete()

    # Deadlines

    def _head_late(self) -> None:
        if self.in_head and not self.transport.is_closing():
            self._refuse(self.limits.refusal("request_timeout"))

    def _check_body(self) -> None:
        """Every `body_timeout`: the body must have come at the minimum rate, unless
        careline itself is not reading (the app has not taken what came, or has not
        yet asked for a body sent on `Expect: 100-continue`)."""
        if self.transport.is_closing() or self.in_head:
            return
        wanted = self.limits.body_min_rate * self.limits.body_timeout
        waiting = self.cycle is not None and self.cycle.waiting_for_100_continue
        if self.flow.read_paused or waiting or self.body_seen >= wanted:
            self.body_seen = 0
            self._set_timer(self.limits.body_timeout, self._check_body)
            return
        if self.cycle is not None and self.cycle.response_started:
            log.info("request body too slow; closed")
            self.cycle.disconnected = True
            self.cycle.message_event.set()
            self.transport.close()
            return
        self._refuse(self.limits.refusal("request_timeout"))

    def _set_timer(self, delay: float, callback: Any) -> None:
        self._cancel_timer()
        self.timer = self.loop.call_later(delay, callback)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    # Refusals

    def _stop(self, code: str) -> None:
        self.refusal = self.limits.refusal(code)
        raise _Refused(code)

    def _refuse(self, error: AppError) -> None:
        """Answer `error` and close, whatever the request's state; the app (if it runs)
        sees the client gone."""
        self.refused = True
        self._cancel_timer()
        self._unset_keepalive_if_required()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        log.info("refused %s", error.code, extra={"status": error.status})
        body = json.dumps(error.to_problem()).encode()
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
        ]
        head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        self.transport.write(STATUS_LINE[error.status] + head + b"\r\n" + body)
        self.flow.pause_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def http_protocol(settings: Settings) -> type[CarelineHttpProtocol]:
    """The protocol class for one server: its limits, and its own count of connections."""
    limits = HttpLimits.from_settings(settings)
    return type(
        "CarelineHttpProtocol", (CarelineHttpProtocol,), {"limits": limits, "gate": Gate(limits)}
    )
