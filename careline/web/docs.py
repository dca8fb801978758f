"""The API reference page at /api/v1/docs: Swagger UI served by careline itself (from the
swagger-ui-bundle-v2 wheel), with its initialiser as a file of its own, so the page
needs no CDN and no inline script and runs under the same strict CSP as the client."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Scope
from swagger_ui_bundle import swagger_ui_path

PAGE = Path(__file__).parent / "apidocs"
DOCS = "/api/v1/docs"
# Only what the page loads: the bundle also holds source maps and an OAuth page.
_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})


class _Assets(StaticFiles):
    """Swagger UI's own files, revalidated by ETag like the web client's."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in _ASSETS:
            path = "missing"  # a 404 through StaticFiles' own handling
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = "no-cache"
        return response


def mount(app: FastAPI) -> None:
    async def docs_page(request: Request) -> Response:
        return FileResponse(PAGE / "index.html", headers={"cache-control": "no-cache"})

    async def docs_init(request: Request) -> Response:
        return FileResponse(
            PAGE / "init.js",
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": "no-cache"},
        )

    app.add_route(DOCS, docs_page, include_in_schema=False)
    app.add_route(f"{DOCS}/init.js", docs_init, include_in_schema=False)
    app.mount(f"{DOCS}/assets", _Assets(directory=str(swagger_ui_path)), name="api-docs")
