"""careline runs its own clamd, as it runs its own PostgreSQL: `careline serve` starts it
in the data directory when ClamAV is installed and a signature database exists, restarts
it when it dies and stops it on SIGTERM. Without a scanner the instance is `degraded`,
says which part is missing, and keeps serving messages; once a database appears, files
work without a restart. Real binaries, a generated EICAR-only database."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from careline import config
from careline.attachments import daemon
from tests.support.clamd import EICAR, Clamd, write_database
from tests.support.process import DEMO_PASSWORD, CarelineProcess, own_clamd_careline


@pytest.fixture
async def signed_in(tmp_path: Path) -> AsyncIterator[tuple[CarelineProcess, Path]]:
    database = tmp_path / "signatures"
    database.mkdir()
    careline = own_clamd_careline(tmp_path / "data", database)
    try:
        await careline.demo()
        careline.launch()
        await careline.ready()
        yield careline, database
    finally:
        careline.cleanup()


async def sign_in(http: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    signed = await http.post(
        "/api/v1/auth/token", json={"email": "sam@riverside.demo", "password": DEMO_PASSWORD}
    )
    auth = {"authorization": f"Bearer {signed.json()['token']}"}
    conversations = (await http.get("/api/v1/conversations", headers=auth)).json()["items"]
    care = next(c for c in conversations if c["kind"] == "care")
    return auth, care["id"]


async def scanned(http: httpx.AsyncClient, auth: dict[str, str], care: str, data: bytes) -> str:
    """Upload `data` and return the state the scan leaves it in."""
    uploaded = await http.post(
        f"/api/v1/conversations/{care}/attachments",
        content=data,
        headers={**auth, "X-File-Name": quote("note.txt"), "Content-Type": "text/plain"},
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment_id = uploaded.json()["id"]
    for _ in range(300):
        found = (await http.get(f"/api/v1/attachments/{attachment_id}", headers=auth)).json()
        if found["state"] != "pending":
            return str(found["state"])
        await asyncio.sleep(0.1)
    raise AssertionError("the scan did not finish in 30 s")


async def until(http: httpx.AsyncClient, want: str, within: float = 60) -> dict[str, Any]:
    """Poll /health/ready until its status is `want`."""
    last: dict[str, Any] = {}
    for _ in range(int(within * 10)):
        response = await http.get("/health/ready")
        assert response.status_code == 200, response.text  # degraded still serves
        last = response.json()
        if last["status"] == want:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"/health/ready never said {want}: {last}")


def gone(pid: int) -> bool:
    """Exited (an unreaped zombie counts: it runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def clamd_pid(careline: CarelineProcess) -> int | None:
    """The live clamd named by careline's own pid file."""
    try:
        pid = int((careline.data_dir / "clamd" / "clamd.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if gone(pid) else pid


async def test_careline_runs_its_own_clamd_and_restarts_it_when_killed(tmp_path: Path) -> None:
    database = write_database(tmp_path / "signatures")
    careline = own_clamd_careline(tmp_path / "data", database)
    try:
        await careline.demo()
        careline.launch()
        await careline.ready()
        async with httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http:
            ready = await until(http, "ready")
            assert ready["scanner"] == {
                "status": "ready",
                "reason": None,
                "detail": "clamd answers",
            }
            assert "file sharing: on (virus scans by careline's own clamd)" in careline.log()
            auth, care = await sign_in(http)
            policy = (await http.get("/api/v1/attachments/policy", headers=auth)).json()
            assert policy["scanner"]["available"] is True
            assert await scanned(http, auth, care, b"clean words\n") == "available"
            assert await scanned(http, auth, care, EICAR) == "quarantined"

            first = clamd_pid(careline)
            assert first is not None
            os.kill(first, signal.SIGKILL)
            # Gone, then back by itself (bounded backoff), with another process.
            restarting = await until(http, "degraded", within=10)
            assert restarting["scanner"]["reason"] in ("clamd_restarting", "clamd_starting")
            await until(http, "ready", within=30)
            second = clamd_pid(careline)
            assert second is not None
            assert second != first
            assert await scanned(http, auth, care, EICAR) == "quarantined"
        # A careline killed outright leaves its clamd; the next start replaces it.
        careline.kill()
        assert clamd_pid(careline) == second
        careline.launch()
        await careline.ready()
        async with httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http:
            await until(http, "ready", within=30)
        third = clamd_pid(careline)
        assert third is not None
        assert third != second
        assert gone(second)
        # careline's SIGTERM stops its clamd too.
        assert careline.terminate() == 0
        assert gone(third)
        assert not (careline.data_dir / "clamd" / "clamd.sock").exists()
    finally:
        careline.cleanup()


async def test_without_a_database_careline_is_degraded_and_files_start_when_one_appears(
    signed_in: tuple[CarelineProcess, Path],
) -> None:
    careline, database = signed_in
    async with httpx.AsyncClient(base_url=careline.base_url, timeout=10) as http:
        ready = await http.get("/health/ready")
        assert ready.status_code == 200  # messages work: stay behind the load balancer
        body = ready.json()
        assert body["status"] == "degraded"
        assert body["scanner"]["status"] == "unavailable"
        assert body["scanner"]["reason"] == "no_signature_database"
        assert "CARELINE_CLAMD_DATABASE_DIR" in body["scanner"]["detail"]
        # `careline serve` (and so `make run`) said so as it started.
        assert (
            "file sharing: paused until a virus scanner runs: ClamAV has no signature database"
            in careline.log()
        )
        auth, care = await sign_in(http)
        policy = (await http.get("/api/v1/attachments/policy", headers=auth)).json()
        assert policy["scanner"] == {
            "available": False,
            "reason": "no_signature_database",
            "recheck_seconds": 1,
        }
        sent = await http.post(
            f"/api/v1/conversations/{care}/messages",
            json={"client_msg_id": "degraded", "text": "Messages still go"},
            headers=auth,
        )
        assert sent.status_code == 201

        # freshclam (here: the test) fills the directory: careline starts clamd itself.
        staged = write_database(database.parent / "staged")
        for f in staged.iterdir():
            os.replace(f, database / f.name)
        await until(http, "ready", within=30)
        policy = (await http.get("/api/v1/attachments/policy", headers=auth)).json()
        assert policy["scanner"]["available"] is True
        assert await scanned(http, auth, care, EICAR) == "quarantined"
        assert await scanned(http, auth, care, b"clean words\n") == "available"


async def test_a_configured_clamd_wins_and_careline_only_checks_it(tmp_path: Path) -> None:
    """With CARELINE_CLAMD_ADDRESS set careline starts no clamd of its own, even with a
    signature database at hand; it says whether that one answers."""
    theirs = Clamd(tmp_path / "theirs")
    settings = config.Settings(
        data_dir=tmp_path / "data",
        clamd_address=f"unix:{theirs.socket}",
        clamd_database_dir=write_database(tmp_path / "signatures"),
    )
    watching = daemon.Scanner(settings)
    await watching.start()
    try:
        assert watching.status.reason == "clamd_unreachable"
        said = await asyncio.to_thread(daemon.preflight, settings)  # as `careline serve` asks
        assert said.reason == "clamd_unreachable"
        theirs.start()
        assert (await watching.check()).available
        assert daemon.address(settings) == f"unix:{theirs.socket}"
        assert not (tmp_path / "data" / "clamd").exists()  # nothing of careline's own
    finally:
        await watching.stop()
        theirs.stop()
