"""The web client's files: static assets (served from memory, precompressed:
careline/web/assets.py), the app shell for client-side routes, and the headers a PWA
needs (manifest type, service-worker scope, revalidation)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from careline.web import assets

STATIC = Path(__file__).parent / "static"

# Paths the client-side router owns; each gets the app shell (index.html). Anything else
# that is not a file stays a 404, so a typo in an asset or API path is not hidden.
_APP_ROUTE = re.compile(
    r"^(?:\.|signin|invite|archived|admin(?:/(?:people|care|settings|notifications"
    r"|monitoring|conversations|audit|reports))?"
    r"|settings/notifications|c/[0-9a-f-]{36})$",
)


def _matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2)."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


class WebFiles(StaticFiles):
    """StaticFiles that answers client-side routes with the shell and always asks the
    browser to revalidate: there is no build step to fingerprint file names, and a care
    team must never run yesterday's client against today's API. The ETag keeps a
    revalidation cheap; the service worker keeps the shell available offline. Every file
    is read once at start and answered from memory, gzipped when it is text and the
    browser accepts it (with Vary: Accept-Encoding and an ETag of its own)."""

    def __init__(self, *, directory: Path, html: bool = False) -> None:
        super().__init__(directory=directory, html=html)
        self.root = directory
        self.assets = assets.load(directory)

    async def get_response(self, path: str, scope: Scope) -> Response:
        route = path.replace("\\", "/")
        if _APP_ROUTE.match(route):
            path = "index.html"
        asset = self.assets.get(path)
        if asset is not None and assets.changed(self.root, path, asset):
            # Read them all again: a changed module may import another (the shell's
            # preload list), and a file may have gone.
            self.assets = assets.load(self.root)
            asset = self.assets.get(path)
        if asset is None:
            response = await super().get_response(path, scope)
        else:
            response = self._serve(asset, scope)
        suffix = Path(path).suffix
        if asset is None and suffix in assets.TYPES and response.status_code == 200:
            response.headers["content-type"] = assets.TYPES[suffix]
        response.headers["cache-control"] = "no-cache"
        if path == "sw.js":
            # The worker lives at the root, so its scope is the whole client.
            response.headers["service-worker-allowed"] = "/"
        return response

    def _serve(self, asset: assets.Asset, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405)
        request = Headers(scope=scope)
        headers = {"etag": asset.etag}
        body = asset.body
        if asset.gzipped is not None:
            headers["vary"] = "Accept-Encoding"
            if assets.accepts_gzip(request.get("accept-encoding", "")):
                body = asset.gzipped
                headers["etag"] = asset.gzip_etag
                headers["content-encoding"] = "gzip"
        if _matches(request.get("if-none-match", ""), headers["etag"]):
            headers.pop("content-encoding", None)
            return Response(status_code=304, headers=headers)
        if scope["method"] == "HEAD":
            headers["content-length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=asset.media_type)
        return Response(body, headers=headers, media_type=asset.media_type)


def mount(app: FastAPI) -> None:
    """Serve the web client at "/" (after every API route, which take precedence)."""
    if (STATIC / "index.html").exists():
        app.mount("/", WebFiles(directory=STATIC, html=True), name="web")
