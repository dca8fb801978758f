"""The web client's files and how careline serves them: client-side routes get the app
shell, unknown paths stay 404, the service worker caches every file of the shell, and
the code keeps the rules that make it safe (no HTML from strings, no inline script)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from careline.web.routes import STATIC
from tests.support.server import RunningServer

SCRIPTS = sorted(p for p in STATIC.rglob("*.js") if p.name != "sw.js")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/signin",
        "/archived",
        "/admin",
        "/admin/people",
        "/admin/care",
        "/admin/settings",
        "/admin/monitoring",
        "/c/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",  # a fixed id: pytest-xdist workers collect alike
    ],
)
async def test_client_side_routes_get_the_app_shell(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/js/main.js">' in response.text
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/nope", "/c/not-an-id", "/admin/secrets", "/js/missing.js"])
async def test_unknown_paths_are_not_found(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_api_paths_are_never_answered_by_the_shell(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/js/main.js", "text/javascript; charset=utf-8"),
        ("/css/app.css", "text/css; charset=utf-8"),
        ("/icons/icon.svg", "image/svg+xml"),
    ],
)
async def test_files_are_served_with_their_types(
    http: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_service_worker_may_control_the_whole_client(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    response = await http.get("/sw.js")
    assert response.headers["service-worker-allowed"] == "/"


def test_the_service_worker_caches_every_file_of_the_shell() -> None:
    source = (STATIC / "sw.js").read_text()
    cached = set(re.findall(r"'(/[^']*)'", source.split("];")[0]))
    needed = {
        "/" + p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*")
        if p.suffix in {".js", ".css"}
    }
    needed.discard("/sw.js")
    assert needed - cached == set()
    for path in cached - {"/"}:
        assert (STATIC / path.lstrip("/")).is_file(), path


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(STATIC).as_posix())
def test_scripts_never_build_html_from_strings(script: Path) -> None:
    source = script.read_text()
    banned = re.compile(
        r"\.(inner|outer)HTML\s*\+?=|insertAdjacentHTML\(|document\.write|\beval\(|new Function\(|"
        r"createContextualFragment|DOMParser"
    )
    assert banned.search(source) is None, f"{script.name}: {banned.search(source)}"


def test_the_shell_has_no_inline_script_or_style() -> None:
    html = (STATIC / "index.html").read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"\son[a-z]+=", html) is None
    assert " style=" not in html
    assert "<style" not in html
