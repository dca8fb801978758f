"""What every request passes before any endpoint: the Host check, forwarded headers only
from trusted proxies, HSTS, the body limit (chunked too), text PostgreSQL cannot hold,
and forged list cursors. All through the real server and its real database."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from careline.db.tx import Actor, transaction
from careline.kit import limits
from tests.support.server import RunningServer, free_port
from tests.support.world import PASSWORD, World

CARELINE = str(Path(sys.executable).parent / "careline")


def _json(document: str) -> dict[str, Any]:
    """A raw JSON body: \\u escapes are sent as written (httpx cannot encode a lone
    surrogate)."""
    return {"content": document.encode(), "headers": {"content-type": "application/json"}}


# (method, path, request, the field the answer names)
UNSTORABLE = {
    "NUL in the sign-in e-mail": (
        "POST",
        "/api/v1/auth/login",
        _json('{"email": "sam\\u0000@example.org", "password": "whatever-it-is"}'),
        "body.email",
    ),
    "a lone surrogate in the password": (
        "POST",
        "/api/v1/auth/token",
        _json('{"email": "sam@example.org", "password": "abc\\ud800defghijk"}'),
        "body.password",
    ),
    "NUL in a display name": (
        "PATCH",
        "/api/v1/me",
        _json('{"display_name": "Sam\\u0000"}'),
        "body.display_name",
    ),
    "a lone low surrogate deep in a list": (
        "POST",
        "/api/v1/conversations",
        _json('{"kind": "team", "member_ids": ["\\udc00"]}'),
        "body.member_ids.0",
    ),
    "NUL in a key": (
        "PATCH",
        "/api/v1/me",
        _json('{"display_name\\u0000": "Sam"}'),
        "body",
    ),
    "NUL in the query string": (
        "GET",
        "/api/v1/members?cursor=a%00b",
        {},
        "query.cursor",
    ),
    "NUL in the path": (
        "GET",
        "/api/v1/conversations/a%00b",
        {},
        "path",
    ),
}


@pytest.mark.parametrize("case", list(UNSTORABLE), ids=list(UNSTORABLE))
async def test_text_postgresql_cannot_hold_is_refused_naming_the_field(
    http: httpx.AsyncClient, world: World, case: str
) -> None:
    method, path, request, field = UNSTORABLE[case]
    r = await http.request(method, path, **_with_auth(request, world))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "invalid_text", problem
    assert problem["field"] == field, problem
    assert problem["errors"][0]["field"] == field
    me = await http.get("/api/v1/me", headers=world["sam"].auth)
    assert me.json()["display_name"] == world["sam"].name  # nothing changed


def _with_auth(request: dict[str, Any], world: World) -> dict[str, Any]:
    headers = {**request.get("headers", {}), **world["sam"].auth}
    return {**request, "headers": headers}


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()


FORGED_CURSORS = {
    "bad base64": "!!!not*base64!!!",
    "not JSON": base64.urlsafe_b64encode(b"{nope").decode(),
    "not a list": _cursor({"a": 1}),
    "wrong arity": _cursor(["x"]),
    "wrong types": _cursor([1, 2]),
    "a bad id": _cursor(["2026-01-01T00:00:00+00:00", "not-a-uuid"]),
    "NUL inside": _cursor(["sam\x00", str(uuid.uuid4())]),
    "a lone surrogate inside": base64.urlsafe_b64encode(b'["\\ud800", "x"]').decode(),
}
# Lists ordered by time also refuse a first part that is no time with a zone.
FORGED_TIMES = {
    "a bad time": _cursor(["yesterday", str(uuid.uuid4())]),
    "a time without a zone": _cursor(["2026-01-01T00:00:00", str(uuid.uuid4())]),
}
LISTS = {
    "members": ("/api/v1/members", "sam", FORGED_CURSORS),
    "care relationships": ("/api/v1/care-relationships", "sam", FORGED_CURSORS),
    "guardian links": ("/api/v1/guardian-links", "sam", FORGED_CURSORS),
    "invitations": ("/api/v1/admin/invitations", "admin", FORGED_CURSORS | FORGED_TIMES),
    "conversations": ("/api/v1/conversations", "sam", FORGED_CURSORS | FORGED_TIMES),
    "quarantined files": (
        "/api/v1/admin/attachments/quarantined",
        "admin",
        FORGED_CURSORS | FORGED_TIMES,
    ),
}
CASES = [(listing, forged) for listing, (_, _, kinds) in LISTS.items() for forged in kinds]


@pytest.mark.parametrize(("listing", "forged"), CASES)
async def test_a_forged_cursor_is_invalid_cursor_on_every_list(
    http: httpx.AsyncClient, world: World, listing: str, forged: str
) -> None:
    path, who, cursors = LISTS[listing]
    r = await http.get(path, params={"cursor": cursors[forged]}, headers=world[who].auth)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_cursor"


async def test_a_real_cursor_still_continues_the_member_list(
    http: httpx.AsyncClient, world: World
) -> None:
    first = await http.get("/api/v1/members", params={"limit": 2}, headers=world["sam"].auth)
    cursor = first.json()["next_cursor"]
    assert cursor
    second = await http.get(
        "/api/v1/members", params={"limit": 2, "cursor": cursor}, headers=world["sam"].auth
    )
    assert second.status_code == 200, second.text
    seen = {m["account_id"] for m in first.json()["items"]}
    assert seen.isdisjoint(m["account_id"] for m in second.json()["items"])


async def test_a_foreign_host_is_refused_and_health_answers_any(
    http: httpx.AsyncClient, world: World
) -> None:
    """A DNS-rebinding page reaches careline under its own name: refused."""
    r = await http.get("/api/v1/me", headers={"host": "attacker.example", **world["sam"].auth})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_host"
    page = await http.get("/", headers={"host": "attacker.example"})
    assert page.status_code == 400
    probe = await http.get("/health", headers={"host": "10.1.2.3:8080"})
    assert probe.status_code == 200
    assert (await http.get("/api/v1/me", headers=world["sam"].auth)).status_code == 200


async def _spray(client: httpx.AsyncClient, world: World, forwarded_for: list[str]) -> list[int]:
    """One wrong password for a different account per attempt, each claiming a forwarded
    address; the last attempt is for yet another account."""
    who = ["sam", "jo", "lily", "tom", "admin", "grace"]
    statuses = []
    for i, address in enumerate(forwarded_for):
        r = await client.post(
            "/api/v1/auth/login",
            json={"email": world[who[i]].email, "password": f"spray {i}"},
            headers={"x-forwarded-for": address},
        )
        statuses.append(r.status_code)
    return statuses


async def test_forwarded_for_from_a_client_does_not_choose_its_throttle_key(
    server: RunningServer, world: World
) -> None:
    """No proxy is trusted by default, not even loopback (uvicorn's own default)."""
    free = server.settings.login_free_failures
    assert server.settings.trusted_proxies == []
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            statuses = await _spray(client, world, [f"203.0.113.{i}" for i in range(free + 1)])
    finally:
        async with transaction(Actor.system()) as tx:
            await tx.conn.execute("DELETE FROM login_throttle WHERE key = 'addr:127.0.0.1'")
    assert statuses == [401] * free + [429], statuses


async def test_a_chunked_body_over_the_limit_is_refused_like_one_with_a_length(
    http: httpx.AsyncClient, world: World
) -> None:
    chunk = b" " * 16384
    count = limits.HTTP_BODY_MAX_BYTES // len(chunk) + 8

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    streamed = await http.post(
        "/api/v1/auth/login",
        content=chunked(),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413, streamed.text
    assert streamed.json()["code"] == "body_too_large"
    declared = await http.post(
        "/api/v1/auth/login",
        content=chunk * count,
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.json()["code"] == "body_too_large"
    # Under the limit, chunked is fine.
    small = await http.post(
        "/api/v1/auth/token",
        content=_once(orjson.dumps({"email": world["sam"].email, "password": PASSWORD})),
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 200, small.text


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def proxied(server: RunningServer, tmp_path: Path) -> AsyncIterator[str]:
    """A second careline process on the same database, as deployed behind a TLS proxy
    on this machine: public URL https, loopback trusted as the proxy."""
    app = server.server.config.app
    assert isinstance(app, FastAPI)
    database = app.state.database
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    shutil.copy(server.settings.master_key_path, data_dir / "master.key")
    port = free_port()
    env = {
        **os.environ,
        "CARELINE_DATA_DIR": str(data_dir),
        "CARELINE_DATABASE_URL": database.owner_dsn,
        "CARELINE_DATABASE_APP_URL": database.app_dsn,
        "CARELINE_PORT": str(port),
        "CARELINE_PUBLIC_URL": "https://careline.test",
        "CARELINE_TRUSTED_PROXIES": '["127.0.0.1"]',
        "CARELINE_LOGIN_FREE_FAILURES": str(server.settings.login_free_failures),
        "CARELINE_PASSWORD_MEMORY_KIB": "1024",
        "CARELINE_PASSWORD_TIME_COST": "1",
        "CARELINE_JOBS_CONCURRENCY": "1",
    }
    process = await asyncio.create_subprocess_exec(
        CARELINE,
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as probe:
            for _ in range(300):
                assert process.returncode is None, "careline serve exited"
                try:
                    if (await probe.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("careline serve did not become ready")
        yield url
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled_and_hsts_is_sent(
    proxied: str, server: RunningServer, world: World
) -> None:
    free = server.settings.login_free_failures
    async with httpx.AsyncClient(
        base_url=proxied, timeout=30, headers={"host": "careline.test"}
    ) as proxy:
        page = await proxy.get("/api/v1/auth/sessions")
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert (await proxy.get("/health", headers={"host": "127.0.0.1"})).status_code == 200
        # The client named by the proxy (the rightmost address it did not add itself)
        # is throttled, whatever the client claimed before it.
        statuses = await _spray(
            proxy, world, [f"198.51.100.{i}, 192.0.2.7" for i in range(free + 1)]
        )
        assert statuses == [401] * free + [429], statuses
        other = await proxy.post(
            "/api/v1/auth/token",
            json={"email": world["grace"].email, "password": PASSWORD},
            headers={"x-forwarded-for": "192.0.2.8"},
        )
        assert other.status_code == 200, other.text
    async with transaction(Actor.system()) as tx:
        assert (
            await tx.conn.fetchval(
                "SELECT failures FROM login_throttle WHERE key = 'addr:192.0.2.7'"
            )
            == free
        )


async def test_the_api_docs_page_loads_only_careline_s_own_files_under_the_strict_csp(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/api/v1/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in page.text  # every script is a file
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(s.startswith("/api/v1/docs/") for s in sources), sources
    for source in sources:
        asset = await http.get(source)
        assert asset.status_code == 200, source
    assert (await http.get("/api/v1/docs/assets/oauth2-redirect.html")).status_code == 404
