"""Problem responses (RFC 9457), the error responses every route documents, and the
middleware every request passes: Host check, body size limit per route (JSON bodies,
uploads), text PostgreSQL cannot hold, security headers, privacy-safe logs. Limits of
the connection itself (headers, deadlines, connection caps) are in protocol.py."""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from careline.config import Settings
from careline.kit import client, fields, limits, text
from careline.kit.crypto import DecryptionError
from careline.kit.errors import AppError, BadRequest, InvalidInput, TooLarge
from careline.monitoring import collector

log = logging.getLogger("careline.http")

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An error, as RFC 9457 problem details. `code` is stable (docs/errors.md)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    code: str


def _problem_ref(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem_ref("Malformed request"),
    401: _problem_ref("Not signed in, or the session ended"),
    403: _problem_ref("Not allowed for your role, or CSRF check failed"),
    404: _problem_ref("Not found (also for what exists but is not yours to see)"),
    # 408, 414 and 431 come from the HTTP layer (careline/web/protocol.py), for any route.
    408: _problem_ref("The request's headers or body did not arrive in time"),
    409: _problem_ref("Conflicts with the current state"),
    413: _problem_ref("Request body too large"),
    414: _problem_ref("URL too long"),
    422: _problem_ref("Invalid input"),
    429: _problem_ref("Too many attempts, or a budget is spent; see Retry-After"),
    431: _problem_ref("Request headers too large, or too many"),
    503: _problem_ref(
        "The database is unavailable, or too many connections or sign-ins wait; "
        "retry after Retry-After"
    ),
}


def problem_response(error: AppError) -> JSONResponse:
    return JSONResponse(
        error.to_problem(),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


async def app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(exc)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    code, extra = fields.error_code(exc.errors())
    return problem_response(
        AppError(
            "the request is not valid", code=code, status=422, extra={"errors": errors, **extra}
        )
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
    error = AppError(
        str(exc.detail), code=codes.get(exc.status_code, "http_error"), status=exc.status_code
    )
    error.title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
    return problem_response(error)


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    route = getattr(request.scope.get("route"), "path", "-")
    if isinstance(exc, DecryptionError):
        # A record that does not open under its own key and row: tampering or a lost key.
        # Never fall back to showing anything; say so, and log loudly (ids only).
        log.error("integrity check failed", extra={"route": route})
        return problem_response(
            AppError(
                "a record failed its integrity check and cannot be shown",
                code="integrity_error",
                status=500,
                title="Integrity error",
            )
        )
    log.error("unhandled error", exc_info=exc, extra={"route": route})
    return problem_response(
        AppError(
            "something went wrong on our side",
            code="internal_error",
            status=500,
            title="Internal error",
        )
    )


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
]


_HSTS = (b"strict-transport-security", b"max-age=31536000")

# Uploads stream their body through, encrypted as it arrives, and enforce the (much
# larger) file size limit themselves: careline/attachments/api.py.
_STREAMED_BODY = re.compile(r"^/api/v1/conversations/[^/]+/attachments$")
# Health checks come from load balancers and container probes, which name the node by
# its address, not the public name. They show nothing and set no cookie.
# /metrics and /health/detailed too: scrapers name the node by its address, and both
# answer only the metrics token (careline/monitoring/api.py).
_ANY_HOST = frozenset({"/health", "/health/ready", "/health/detailed", "/metrics"})
# A refused body is read on (up to this much) before the connection closes, so a client
# that sends it all before reading gets the answer rather than a reset connection.
_DRAIN_BYTES = 1024 * 1024


# Methods counted by name; any other (a client may send any token) counts as OTHER.
_METHODS = {m: m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}


def _unstorable(field: str) -> InvalidInput:
    detail, extra = text.unstorable_problem(field)
    return InvalidInput(detail, code="invalid_text", extra=extra)


def _too_large() -> TooLarge:
    return TooLarge(
        f"request bodies are at most {limits.HTTP_BODY_MAX_BYTES} bytes", code="body_too_large"
    )


def _file_too_large(max_bytes: int) -> TooLarge:
    # The wording and code of the upload's own check (careline/attachments/service.py),
    # which judges a body that declares no length as it arrives.
    return TooLarge(
        f"files can be at most {max_bytes // (1024 * 1024)} MiB",
        code="file_too_large",
        extra={"limit": max_bytes},
    )


def _declared_over(scope: Scope, max_bytes: int) -> bool:
    length = dict(scope["headers"]).get(b"content-length")
    return length is not None and (not length.isdigit() or int(length) > max_bytes)


class HostCheck:
    """The `Host` header must name careline as its public URL does (or an extra host),
    so that a DNS-rebinding page cannot talk to it under a name of its own."""

    def __init__(self, settings: Settings) -> None:
        self.exact = settings.allowed_hosts | {h for h in settings.extra_hosts if ":" in h}
        self.any_port = {h for h in settings.extra_hosts if ":" not in h or h.endswith("]")}

    def allows(self, host: str) -> bool:
        host = host.lower()
        name = host if host.endswith("]") else host.rpartition(":")[0] or host
        return host in self.exact or name in self.any_port

    def refusal(self, scope: Scope) -> AppError | None:
        if scope["path"] in _ANY_HOST:
            return None
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if self.allows(host):
            return None
        return BadRequest("this server does not answer to that Host", code="invalid_host")


def _unstorable_in_url(scope: Scope) -> AppError | None:
    """Path and query string: percent-escapes can carry NUL (never a lone surrogate:
    they decode as UTF-8 with replacement)."""
    if not text.storable(scope["path"]):
        return _unstorable("path")
    query = scope["query_string"].decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if not text.storable(name):
            return _unstorable("query")
        if not text.storable(value):
            return _unstorable(f"query.{name}")
    return None


async def _read_body(scope: Scope, receive: Receive) -> bytes | AppError | None:
    """The whole body of a request whose body is not streamed, refused as soon as it
    passes the limit: by its Content-Length, or by what arrives (a chunked body has
    none), so no more than the limit is ever held. None: the client went away."""
    if _declared_over(scope, limits.HTTP_BODY_MAX_BYTES):
        return _too_large()
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limits.HTTP_BODY_MAX_BYTES:
            return _too_large()
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    found = text.find_unstorable_json(body)
    if found is not None:
        return _unstorable(f"body.{found[1]}" if found[1] else "body")
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app: the body read already, then the connection's own events."""
    pending = [body]

    async def replay() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return replay


async def _drain(receive: Receive) -> None:
    budget = _DRAIN_BYTES
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        budget -= len(message.get("body", b""))


class GuardMiddleware:
    """Every HTTP request: refuse a foreign Host, bodies over the limit and text that
    PostgreSQL cannot hold (in the path, the query and JSON bodies: one check for every
    endpoint); add security headers (HSTS when the public URL is https); keep API
    responses out of caches; and log method, route template, status and time (never
    the query string or body, which may hold health data)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.hosts = HostCheck(settings)
        self.file_max_bytes = settings.file_max_bytes
        self.headers = [*_SECURITY_HEADERS, *([_HSTS] if settings.cookie_secure else [])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client.use_scope(scope)  # for the audit of what this request reads
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]
        send = self._guarded_send(scope, send, status)
        try:
            refusal = self.hosts.refusal(scope) or _unstorable_in_url(scope)
            streamed = scope["method"] == "POST" and _STREAMED_BODY.match(scope["path"])
            if refusal is None and streamed and _declared_over(scope, self.file_max_bytes):
                # Answered before any of the body arrives (and before signing in costs a
                # database round trip): a declared 1 GB that never comes is not waited for.
                refusal = _file_too_large(self.file_max_bytes)
            elif refusal is None and not streamed:
                body = await _read_body(scope, receive)
                if body is None:
                    return
                if isinstance(body, AppError):
                    refusal = body
                else:
                    receive = _replay(body, receive)
            if refusal is None:
                await self.app(scope, receive, send)
                return
            await problem_response(refusal)(scope, receive, send)
            if refusal.status == 413:
                await _drain(receive)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "-")
            log.info("%s %s %s %.1fms", scope["method"], route, status[0], seconds * 1000)
            # Counted by route template and status class only (never the path itself).
            collector.current.http_request(
                _METHODS.get(scope["method"], "OTHER"), route, status[0], seconds
            )

    def _guarded_send(self, scope: Scope, send: Send, status: list[int]) -> Send:
        is_api = scope["path"].startswith("/api/")

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # A response may set its own (file downloads: a sandboxing CSP).
                headers.extend(h for h in self.headers if h[0] not in present)
                if is_api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        return guarded_send
