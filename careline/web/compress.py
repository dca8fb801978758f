"""gzip for the API's JSON answers, except those that carry a secret (BREACH).

A response is compressed when the browser accepts gzip, it is JSON (application/json or
application/problem+json), it comes in one piece (a streamed body passes untouched, so
downloads still stream) and it is large enough to gain. Never compressed:

- the routes in SECRET_BEARING, whose JSON holds a secret beside text an attacker may
  have put there (a display name, a file name): the CSRF token (sign-in, `/me`, the
  session probe, accepting an invitation), a bearer token, an invitation's one-time
  link, and signed download links. Compressed, the length of such a response would
  tell a network observer who can make the browser repeat a request, guess by guess,
  how much of their guess matches the secret (BREACH). tests/web/test_compression.py
  walks the OpenAPI schema: any response with such a field must be listed here;
- file downloads (`/api/v1/files/...`): encrypted at rest, often compressed already, and
  streamed; and anything that names a Content-Disposition or a Content-Encoding.

The web client's static files are precompressed once at start (careline/web/assets.py).
The WebSocket is not HTTP and passes straight through (per-message deflate is off, for
the same reason: its auth frame carries the CSRF token)."""

from __future__ import annotations

import gzip

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from careline.web.assets import accepts_gzip

# Route templates whose answers hold a secret: see the module's docstring.
SECRET_BEARING = frozenset(
    {
        "/api/v1/auth/login",
        "/api/v1/auth/token",
        "/api/v1/auth/session",
        "/api/v1/me",
        "/api/v1/invitations/accept",
        "/api/v1/admin/members",
        "/api/v1/attachments/{attachment_id}",
        "/api/v1/conversations/{conversation_id}/attachments",
    }
)
JSON_TYPES = frozenset({"application/json", "application/problem+json"})
MIN_BYTES = 512
# Level 6 (zlib's default): most of level 9's gain for a third of its time, per request.
LEVEL = 6


def _route(scope: Scope) -> str:
    return str(getattr(scope.get("route"), "path", ""))


class CompressMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        wanted = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        start: list[Message] = []

        async def compressing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.append(message)
                return
            if message["type"] != "http.response.body" or not start:
                await send(message)
                return
            head = start.pop()
            headers = MutableHeaders(raw=list(head.get("headers", [])))
            eligible = (
                headers.get("content-type", "").split(";")[0].strip() in JSON_TYPES
                and "content-encoding" not in headers
                and "content-disposition" not in headers
                and not scope["path"].startswith("/api/v1/files/")
                and _route(scope) not in SECRET_BEARING
            )
            body: bytes = message.get("body", b"")
            if eligible:
                headers.add_vary_header("Accept-Encoding")
            if eligible and wanted and not message.get("more_body") and len(body) >= MIN_BYTES:
                body = gzip.compress(body, compresslevel=LEVEL, mtime=0)
                headers["content-encoding"] = "gzip"
                headers["content-length"] = str(len(body))
                message = {**message, "body": body}
            await send({**head, "headers": headers.raw})
            await send(message)

        await self.app(scope, receive, compressing_send)
