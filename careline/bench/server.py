"""The careline server under test: `careline serve` in its own process, in its own data
directory, with the embedded PostgreSQL as shipped (fsync and synchronous_commit on)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
_SERVE = "from careline.cli import main; main(['serve'], prog_name='careline')"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def clean_environment() -> None:
    """The bench measures careline as shipped: drop any CARELINE_* or DATABASE_* settings
    inherited from the shell, so neither the server nor the seeder picks them up."""
    for name in list(os.environ):
        if name.startswith("CARELINE_") or name in ("DATABASE_URL", "DATABASE_APP_URL"):
            del os.environ[name]


class ServerProcess:
    def __init__(self, data_dir: Path, settings: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.settings = settings or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def launch(self) -> None:
        env = {
            **os.environ,
            "CARELINE_DATA_DIR": str(self.data_dir),
            "CARELINE_HOST": HOST,
            "CARELINE_PORT": str(self.port),
            **self.settings,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", _SERVE], env=env, stdout=self._log, stderr=self._log
        )

    async def wait_ready(self, within: float = 120) -> None:
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"careline serve exited: {self.log_tail()}")
            if await self._status("/health/ready") == 200:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"careline serve not ready in {within:.0f} s: {self.log_tail()}")

    async def _status(self, path: str) -> int | None:
        try:
            reader, writer = await asyncio.open_connection(HOST, self.port)
        except OSError:
            return None
        try:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
            )
            line = await asyncio.wait_for(reader.readline(), 10)
            return int(line.split()[1]) if line else None
        except (OSError, TimeoutError, ValueError, IndexError):
            return None
        finally:
            writer.close()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM: uvicorn closes sockets and careline stops its PostgreSQL. A server that
        hangs is killed, and its PostgreSQL stopped for it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.postmaster_pid() is not None:
            from careline.db.embedded import EmbeddedPostgres

            with contextlib.suppress(Exception):
                EmbeddedPostgres(self.pgdata, managed=True).stop()
        if self._log is not None:
            self._log.close()
        self.proc = None
