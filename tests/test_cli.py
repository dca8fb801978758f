"""The `careline` command as an operator uses it: demo, serve, health, migrate, create a
tenant, and clear errors for bad configuration."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from careline.db.embedded import EmbeddedPostgres
from tests.support.server import free_port

CARELINE = str(Path(sys.executable).parent / "careline")


def env_for(data_dir: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "CARELINE_DATA_DIR": str(data_dir),
        "CARELINE_PORT": str(port),
        "CARELINE_DATABASE_DURABLE": "false",
        "CARELINE_PASSWORD_MEMORY_KIB": "1024",
        "CARELINE_PASSWORD_TIME_COST": "1",
        # No signatures, as on a fresh machine (freshclam never runs here): serving, with
        # file sharing paused (tests/test_own_clamd.py runs careline with a database).
        "CARELINE_CLAMD_DATABASE_DIR": str(data_dir.parent / "no-signatures"),
    }


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        CARELINE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_demo_then_serve_works_like_make_run(tmp_path: Path) -> None:
    port = free_port()
    env = env_for(tmp_path / "data", port)
    code, out, err = await run("demo", env=env)
    assert code == 0, err
    assert f"http://127.0.0.1:{port}" in out
    assert "sam@riverside.demo" in out
    assert "careline-demo" in out
    assert out.count("@riverside.demo") == 12  # an admin, three staff, six clients, two guardians
    again = await run("demo", env=env)
    assert again[0] == 0, again[2]
    assert again[1] == out  # safe to run again: nothing duplicated, same logins

    server = await asyncio.create_subprocess_exec(
        CARELINE, "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(200):
                try:
                    ready = await http.get("/health/ready")
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            assert ready.status_code == 200
            assert ready.json()["status"] == "degraded"
            assert ready.json()["scanner"]["reason"] == "no_signature_database"
            assert (await http.get("/health")).json() == {"status": "ok"}
            signed = await http.post(
                "/api/v1/auth/token",
                json={"email": "sam@riverside.demo", "password": "careline-demo"},
            )
            auth = {"authorization": f"Bearer {signed.json()['token']}"}
            conversations = (await http.get("/api/v1/conversations", headers=auth)).json()["items"]
            # The demo's state is consistent: replying reads, so a conversation whose
            # last message is Sam's ("You: …") has nothing unread.
            me = (await http.get("/api/v1/me", headers=auth)).json()["account_id"]
            last_mine = [
                c for c in conversations if (c["last_message"] or {}).get("sender_id") == me
            ]
            assert last_mine
            assert [c["unread"] for c in last_mine] == [0] * len(last_mine)
            care = next(c for c in conversations if c["kind"] == "care" and c["last_message"])
            sent = await http.post(
                f"/api/v1/conversations/{care['id']}/messages",
                json={"client_msg_id": "cli", "text": "Hello from a new user"},
                headers=auth,
            )
            assert sent.status_code == 201
            history = (
                await http.get(f"/api/v1/conversations/{care['id']}/messages", headers=auth)
            ).json()["items"]
            assert history[-1]["text"] == "Hello from a new user"
            assert len(history) >= 3  # the demo's history is there
            # The database goes away: alive, not ready while it is gone (the retryable
            # code), and careline starts it again by itself (tests/db/test_outage.py
            # holds an outage open and looks at it closely).
            EmbeddedPostgres(tmp_path / "data" / "pgdata", managed=True).stop()
            assert (await http.get("/health")).status_code == 200
            for _ in range(300):
                again = await http.get("/health/ready")
                if again.status_code == 200:
                    break
                assert again.json()["code"] == "database_unavailable", again.text
                await asyncio.sleep(0.1)
            assert again.status_code == 200, again.text
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)


async def test_create_tenant_migrate_and_clear_configuration_errors(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data", free_port())
    code, out, err = await run("migrate", env=env)
    assert code == 0, err
    assert "schema is current" in out
    args = [
        "create-tenant",
        "--slug",
        "northside",
        "--name",
        "Northside Clinic",
        "--admin-email",
        "boss@north.test",
        "--admin-name",
        "Boss",
    ]
    code, out, err = await run(*args, env=env)
    assert code == 0, err
    assert "initial password (shown once):" in out
    code, out, err = await run(*args, env=env)
    assert code == 1
    assert "slug 'northside' exists" in err
    bad = {**env, "CARELINE_PORT": "eighty", "CARELINE_PUBLIC_URL": "ftp://x"}
    code, out, err = await run("migrate", env=bad)
    assert code == 2
    assert "invalid configuration" in err
    assert "port" in err
    assert "public_url" in err
