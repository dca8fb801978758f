"""The web client's files: static assets, the app shell for client-side routes, and the
headers a PWA needs (manifest type, service-worker scope, revalidation)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"

# Paths the client-side router owns; each gets the app shell (index.html). Anything else
# that is not a file stays a 404, so a typo in an asset or API path is not hidden.
_APP_ROUTE = re.compile(
    r"^(?:\.|signin|invite|archived|admin(?:/(?:people|care|settings))?|c/[0-9a-f-]{36})$",
)

_TYPES = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


class WebFiles(StaticFiles):
    """StaticFiles that answers client-side routes with the shell and always asks the
    browser to revalidate: there is no build step to fingerprint file names, and a care
    team must never run yesterday's client against today's API. The ETag keeps a
    revalidation cheap; the service worker keeps the shell available offline."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        route = path.replace("\\", "/")
        if _APP_ROUTE.match(route):
            path = "index.html"
        response = await super().get_response(path, scope)
        suffix = Path(path).suffix
        if suffix in _TYPES and response.status_code == 200:
            response.headers["content-type"] = _TYPES[suffix]
        response.headers["cache-control"] = "no-cache"
        if path == "sw.js":
            # The worker lives at the root, so its scope is the whole client.
            response.headers["service-worker-allowed"] = "/"
        return response


def mount(app: FastAPI) -> None:
    """Serve the web client at "/" (after every API route, which take precedence)."""
    if (STATIC / "index.html").exists():
        app.mount("/", WebFiles(directory=STATIC, html=True), name="web")
