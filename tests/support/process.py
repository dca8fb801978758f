"""`careline serve` as its own process, in its own data directory, with its own embedded
PostgreSQL: for tests that kill PostgreSQL (or careline) and must not take the session's
shared server with them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from careline.db.embedded import EmbeddedPostgres, is_postmaster_of
from careline.db.pool import connect_owner
from tests.support.clamd import Clamd
from tests.support.server import free_port

CARELINE = str(Path(sys.executable).parent / "careline")
DEMO_PASSWORD = "careline-demo"


class CarelineProcess:
    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.clamd = Clamd(data_dir / "clamd")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CARELINE_")},
            "CARELINE_DATA_DIR": str(data_dir),
            "CARELINE_PORT": str(self.port),
            "CARELINE_DATABASE_DURABLE": "false",
            "CARELINE_PASSWORD_MEMORY_KIB": "1024",
            "CARELINE_PASSWORD_TIME_COST": "1",
            "CARELINE_CLAMD_ADDRESS": f"unix:{self.clamd.socket}",
            "CARELINE_SCAN_RETRY_SECONDS": "0.5",
            "CARELINE_LOG_LEVEL": "info",
            **{f"CARELINE_{k.upper()}": v for k, v in settings.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.last_pidfile = ""  # postmaster.pid as a test saw it last
        self._log: IO[bytes] | None = None
        data_dir.mkdir(parents=True, exist_ok=True)
        self.clamd.directory.mkdir(parents=True, exist_ok=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "careline.log"

    def log(self, since: int = 0) -> str:
        return self.log_path.read_bytes()[since:].decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def postmaster_pid(self) -> int | None:
        return EmbeddedPostgres(self.pgdata).postmaster_pid()

    def postmaster_alive(self, pid: int) -> bool:
        return is_postmaster_of(pid, self.pgdata)

    async def demo(self) -> None:
        """The demo organisation (and its logins), made by `careline demo`."""
        process = await asyncio.create_subprocess_exec(
            CARELINE,
            "demo",
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 180)
        assert process.returncode == 0, err.decode()

    def launch(self) -> None:
        assert self.proc is None
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [CARELINE, "serve"], env=self.env, stdout=self._log, stderr=self._log
        )

    async def ready(self, within: float = 60) -> httpx.Response:
        """Poll /health/ready until it answers 200, or fail after `within` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        last: Any = None
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            while loop.time() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"careline exited:\n{self.log()[-3000:]}")
                try:
                    last = await http.get("/health/ready")
                    if last.status_code == 200:
                        return last
                except httpx.TransportError as exc:
                    last = exc
                await asyncio.sleep(0.1)
        raise AssertionError(f"not ready within {within}s: {last}\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL careline itself: its PostgreSQL keeps running."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)
        self._close()

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._close()
        return code

    def _close(self) -> None:
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        """Whatever a test left running: careline, its PostgreSQL, clamd."""
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.terminate()
            if self.proc is not None:
                self.proc.kill()
                self._close()
        EmbeddedPostgres(self.pgdata, managed=True).stop()
        self.clamd.stop()

    async def crash_postgres(self) -> Frozen:
        """kill -9 the postmaster, with one of its backends frozen (SIGSTOP), as a crash
        can leave one: PostgreSQL refuses to start again while a process of the old
        server is still attached to its shared memory, so the outage lasts until the
        test lets that process go (`Frozen.release`)."""
        dsn = EmbeddedPostgres(self.pgdata).dsn(user="postgres", database="postgres")
        conn = await connect_owner(dsn)
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        postmaster = self.postmaster_pid()
        assert postmaster is not None
        os.kill(backend, signal.SIGSTOP)
        os.kill(postmaster, signal.SIGKILL)
        return Frozen(conn, backend)


def own_clamd_careline(data_dir: Path, signatures: Path) -> CarelineProcess:
    """`careline serve` as `make run` starts it: no clamd_address, so careline runs its own
    clamd on the signature database in `signatures` (once there is one there)."""
    careline = CarelineProcess(
        data_dir, clamd_database_dir=str(signatures), scanner_check_seconds="0.2"
    )
    del careline.env["CARELINE_CLAMD_ADDRESS"]
    return careline


@dataclass
class Frozen:
    conn: Any  # the test's own connection to the frozen backend
    pid: int

    def release(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.conn.terminate()
