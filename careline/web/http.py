"""Problem responses (RFC 9457), the error responses every route documents, and the
middleware every request passes: body size limit, security headers, privacy-safe logs."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from careline.kit import fields, limits
from careline.kit.crypto import DecryptionError
from careline.kit.errors import AppError, TooLarge

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
    409: _problem_ref("Conflicts with the current state"),
    413: _problem_ref("Request body too large"),
    422: _problem_ref("Invalid input"),
    429: _problem_ref("Too many attempts; see Retry-After"),
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


# Uploads stream their body through, encrypted as it arrives, and enforce the (much
# larger) file size limit themselves: careline/attachments/api.py.
_STREAMED_BODY = re.compile(r"^/api/v1/conversations/[^/]+/attachments$")


class GuardMiddleware:
    """Every HTTP request: refuse bodies over the limit, add security headers, keep API
    responses out of caches, and log method, route template, status and time (never
    the query string or body, which may hold health data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = [0]
        streamed = scope["method"] == "POST" and _STREAMED_BODY.match(scope["path"]) is not None
        length = dict(scope["headers"]).get(b"content-length")
        if (
            not streamed
            and length is not None
            and (not length.isdigit() or int(length) > limits.HTTP_BODY_MAX_BYTES)
        ):
            await self._too_large(scope, receive, send)
            return
        received = [0]

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not streamed:
                received[0] += len(message.get("body", b""))
                if received[0] > limits.HTTP_BODY_MAX_BYTES:
                    raise _BodyTooLarge
            return message

        is_api = scope["path"].startswith("/api/")

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # A response may set its own (file downloads: a sandboxing CSP).
                headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
                if is_api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            await self._too_large(scope, receive, send)
            status_holder[0] = 413
        finally:
            route = scope.get("route")
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                getattr(route, "path", "-"),
                status_holder[0],
                (time.perf_counter() - started) * 1000,
            )

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            TooLarge(
                f"request bodies are at most {limits.HTTP_BODY_MAX_BYTES} bytes",
                code="body_too_large",
            )
        )
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass
