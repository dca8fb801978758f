"""Compression: the web client's text files and the API's JSON come gzipped to a browser
that accepts it (Vary: Accept-Encoding, an ETag of their own, still revalidated);
images, downloads and every answer that carries a secret (BREACH) never do; a
download still streams; and the web client's shell preloads its whole module graph.
Through the real server and its real database."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from careline.web import assets, compress
from careline.web.routes import STATIC, WebFiles
from tests.support import files
from tests.support.clamd import Clamd
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, World
from tests.support.ws import connect

GZIP = {"accept-encoding": "gzip, deflate"}
IDENTITY = {"accept-encoding": "identity"}


async def raw_get(
    server: RunningServer, path: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    """A GET whose body is kept as it came on the wire (httpx would decode gzip)."""
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        http.stream("GET", path, headers=headers or {}) as response,
    ):
        return response, b"".join([chunk async for chunk in response.aiter_raw()])


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/js/store.js", "text/javascript"),
        ("/css/app.css", "text/css"),
        ("/", "text/html"),
        ("/signin", "text/html"),
        ("/icons/icon.svg", "image/svg+xml"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/sw.js", "text/javascript"),
    ],
)
async def test_text_files_come_gzipped_to_a_browser_that_accepts_it(
    server: RunningServer, path: str, media_type: str
) -> None:
    zipped, wire = await raw_get(server, path, GZIP)
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["content-type"].startswith(media_type)
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert int(zipped.headers["content-length"]) == len(wire)
    plain, body = await raw_get(server, path, IDENTITY)
    assert "content-encoding" not in plain.headers
    assert "accept-encoding" in plain.headers["vary"].lower()
    assert gzip.decompress(wire) == body
    assert len(wire) < len(body)
    # Each representation has its own validator, and both revalidate to a 304.
    assert zipped.headers["etag"] != plain.headers["etag"]
    for response, headers in ((zipped, GZIP), (plain, IDENTITY)):
        assert response.headers["cache-control"] == "no-cache"
        again, empty = await raw_get(
            server, path, {**headers, "if-none-match": response.headers["etag"]}
        )
        assert again.status_code == 304
        assert empty == b""
        assert again.headers["etag"] == response.headers["etag"]


async def test_a_changed_or_foreign_etag_gets_the_whole_file(server: RunningServer) -> None:
    response, body = await raw_get(server, "/js/main.js", {**IDENTITY, "if-none-match": '"old"'})
    assert response.status_code == 200
    assert body == (STATIC / "js" / "main.js").read_bytes()


@pytest.mark.parametrize("path", ["/icons/icon-192.png", "/icons/icon-512.png"])
async def test_images_are_never_compressed_again(server: RunningServer, path: str) -> None:
    response, wire = await raw_get(server, path, GZIP)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert wire == (STATIC / path.lstrip("/")).read_bytes()
    assert response.headers["content-type"] == "image/png"
    again, _ = await raw_get(server, path, {"if-none-match": response.headers["etag"]})
    assert again.status_code == 304


async def test_a_head_request_gets_the_headers_alone(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.head("/css/app.css", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == b""


async def test_api_json_comes_gzipped(server: RunningServer, world: World) -> None:
    for path, headers in (
        ("/api/v1/openapi.json", {}),
        ("/api/v1/members", world["sam"].auth),
    ):
        zipped, wire = await raw_get(server, path, {**GZIP, **headers})
        assert zipped.status_code == 200, path
        assert zipped.headers["content-encoding"] == "gzip", path
        assert "accept-encoding" in zipped.headers["vary"].lower()
        assert int(zipped.headers["content-length"]) == len(wire)
        plain, body = await raw_get(server, path, {**IDENTITY, **headers})
        assert "content-encoding" not in plain.headers
        assert gzip.decompress(wire) == body


async def test_answers_that_carry_a_secret_are_never_compressed(
    server: RunningServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any size is enough to compress from here on: only the secret keeps these plain.
    monkeypatch.setattr(compress, "MIN_BYTES", 1)
    sam = world["sam"]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        signed_in = await http.post(
            "/api/v1/auth/login", json={"email": sam.email, "password": PASSWORD}, headers=GZIP
        )
        token = await http.post(
            "/api/v1/auth/token", json={"email": sam.email, "password": PASSWORD}, headers=GZIP
        )
        me = await http.get("/api/v1/me", headers=GZIP)  # the cookie session: has the CSRF
        probe = await http.get("/api/v1/auth/session", headers=GZIP)
        listed = await http.get("/api/v1/members", headers=GZIP)
    for response in (signed_in, token, me, probe):
        assert response.status_code == 200, response.text
        assert "content-encoding" not in response.headers, response.url
    assert signed_in.json()["csrf_token"]
    assert token.json()["token"]
    assert me.json()["csrf_token"] == probe.json()["me"]["csrf_token"]
    # The same client, the same session: an answer without a secret is compressed.
    assert listed.headers["content-encoding"] == "gzip"


def _fields(schema: Any, components: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name in a schema, following $refs."""
    names: set[str] = set()
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                names |= _fields(components[name], components, seen)
        names |= set(schema.get("properties", {}))
        for value in schema.values():
            names |= _fields(value, components, seen)
    elif isinstance(schema, list):
        for value in schema:
            names |= _fields(value, components, seen)
    return names


async def test_every_route_whose_answer_holds_a_secret_is_left_uncompressed(
    http: httpx.AsyncClient,
) -> None:
    document = (await http.get("/api/v1/openapi.json")).json()
    components = document["components"]["schemas"]
    secret = {"csrf_token", "token", "link", "links"}
    holding = set()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                if status.startswith("2") and _fields(answer, components, set()) & secret:
                    holding.add(path)
    assert holding >= {"/api/v1/auth/login", "/api/v1/me", "/api/v1/auth/session"}
    assert holding - compress.SECRET_BEARING == set()


async def test_downloads_are_never_compressed_and_still_stream(
    server: RunningServer, http: httpx.AsyncClient, world: World, clamd: Clamd
) -> None:
    if clamd.process is None:
        clamd.start()
    lily = world["lily"]
    care = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(lily.account_id)},
        headers=world["sam"].auth,
    )
    text = b"the same line of notes, again and again\n" * 20_000  # compresses very well
    uploaded = await files.upload(http, lily, care.json()["id"], "notes.txt", text)
    assert uploaded.status_code == 201, uploaded.text
    ready = await files.wait_state(http, lily, uploaded.json()["id"])
    assert ready["state"] == "available", ready
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as raw,
        raw.stream("GET", ready["links"]["original"], headers={**GZIP, **lily.auth}) as response,
    ):
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert int(response.headers["content-length"]) == len(text)
        assert b"".join([chunk async for chunk in response.aiter_raw()]) == text


async def test_the_shell_preloads_every_module_of_its_graph(server: RunningServer) -> None:
    _, html = await raw_get(server, "/", IDENTITY)
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html.decode()))
    modules = {"/" + p.relative_to(STATIC).as_posix() for p in (STATIC / "js").rglob("*.js")} - {
        "/js/main.js"
    }
    # Each a module of the tree (that the browser loads them all is
    # tests/e2e/test_fast.py's to show).
    assert preloaded <= modules
    assert len(preloaded) > 10
    assert html.index(b"modulepreload") < html.index(b'<script type="module"')


async def test_the_socket_is_untouched_by_compression(server: RunningServer, world: World) -> None:
    # A browser's handshake asks for gzip too; the socket still upgrades, and its frames
    # are never deflated (its auth frame carries the CSRF token: docs/security.md).
    async with connect(server.ws_url, world["lily"].token, additional_headers=GZIP) as lily:
        assert lily.ready["account_id"] == str(world["lily"].account_id)
        assert lily.ws.response.headers.get("sec-websocket-extensions") is None
        assert "content-encoding" not in lily.ws.response.headers


def _client_tree(root: Path) -> None:
    (root / "js" / "views").mkdir(parents=True)
    (root / "index.html").write_text(
        '<head>\n  <script type="module" src="/js/main.js"></script>\n</head>\n'
    )
    (root / "js" / "main.js").write_text(
        "import { a } from './a.js';\nimport {\n  b,\n  c,\n} from './views/b.js';\n"
        "import './side.js';\nconst later = () => import('./lazy.js');\n"
    )
    (root / "js" / "a.js").write_text("export const a = 1;\nexport { d } from './d.js';\n")
    (root / "js" / "views" / "b.js").write_text("import { a } from '../a.js';\nexport const b = a;")
    (root / "js" / "side.js").write_text("document.title = 'x';\n")
    (root / "js" / "d.js").write_text("export const d = 'not/a/module.js';\n")
    (root / "js" / "lazy.js").write_text("export const lazy = 1;\n")


def test_the_module_graph_follows_static_imports_only(tmp_path: Path) -> None:
    _client_tree(tmp_path)
    assert assets.module_graph(tmp_path, "/js/main.js") == [
        "/js/a.js",
        "/js/views/b.js",
        "/js/side.js",
        "/js/d.js",
    ]
    shell = assets.shell(tmp_path, (tmp_path / "index.html").read_text())
    assert shell.count('rel="modulepreload"') == 4
    assert shell.index('href="/js/d.js"') < shell.index('<script type="module"')


async def test_a_file_changed_on_disk_is_served_anew(tmp_path: Path) -> None:
    """Someone editing the client while careline runs sees the edit on the next load."""
    _client_tree(tmp_path)
    app = Starlette()
    app.mount("/", WebFiles(directory=tmp_path, html=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://careline") as http:
        before = await http.get("/js/side.js")
        shell = (await http.get("/")).text
        assert "/js/new.js" not in shell
        (tmp_path / "js" / "new.js").write_text("export const n = 2;\n" * 50)
        (tmp_path / "js" / "side.js").write_text("import './new.js';\n" + "// more\n" * 50)
        after = await http.get("/js/side.js", headers=GZIP)
        assert after.text.startswith("import './new.js';")
        assert after.headers["etag"] != before.headers["etag"]
        assert '<link rel="modulepreload" href="/js/new.js">' in (await http.get("/")).text
        (tmp_path / "js" / "lazy.js").unlink()
        assert (await http.get("/js/lazy.js")).status_code == 404


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        ("gzip, deflate, br, zstd", True),
        ("GZip;q=0.5", True),
        ("deflate", False),
        ("", False),
        ("gzip;q=0", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("br, *;q=0.1", True),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str, gzip_ok: bool) -> None:
    assert assets.accepts_gzip(header) is gzip_ok
