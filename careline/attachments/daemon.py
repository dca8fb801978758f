"""The virus scanner careline uses, and what it is doing right now.

Two ways to have one:
- `clamd_address` set: an external clamd (Debian's service, another host). careline
  only checks that it answers PING.
- `clamd_address` unset (the default): `careline serve` runs its own clamd in
  `data_dir/clamd`, as it runs its own PostgreSQL, when ClamAV's `clamd` is installed and
  `clamd_database_dir` holds a signature database. It restarts clamd when it dies (with a
  bounded backoff) and stops it (SIGTERM) when careline stops. Nothing is downloaded:
  freshclam is never run by careline.

One careline process manages the clamd of a data directory: the one holding the lock
file `clamd/clamd.lock` (as for PostgreSQL). Others in the same data directory only use
its socket.

`Scanner.status` says whether files can be scanned, and if not, which part is missing
(a reason code): /health/ready reports it (`degraded`), and the web client pauses file
sharing on it (GET /api/v1/attachments/policy).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from careline import config
from careline.attachments import scanner
from careline.kit import tasks

log = logging.getLogger(__name__)

# How long careline's own clamd may take to load its signatures and answer PING (the
# full official database takes tens of seconds) before it counts as failed.
START_SECONDS = 300.0
RESTART_BACKOFF = (1.0, 60.0)  # first wait before starting clamd again, and the cap
STOP_SECONDS = 10.0  # after SIGTERM, before SIGKILL
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes

# Files a ClamAV signature database is made of (clamd refuses to start without one).
DATABASE_SUFFIXES = frozenset(
    {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".mdb", ".msb", ".ndb", ".ldb", ".yar", ".yara"}
)


@dataclass(frozen=True, slots=True)
class Status:
    """`reason` is None when files can be scanned."""

    reason: str | None
    detail: str

    @property
    def available(self) -> bool:
        return self.reason is None


READY = Status(None, "clamd answers")
NOT_INSTALLED = Status(
    "clamd_not_installed",
    "ClamAV's clamd is not installed (Debian: apt-get install clamav clamav-daemon)",
)
NO_DATABASE = Status(
    "no_signature_database",
    "ClamAV has no signature database (run freshclam, or set CARELINE_CLAMD_DATABASE_DIR)",
)
STARTING = Status("clamd_starting", "clamd is loading its signatures")
RESTARTING = Status(
    "clamd_restarting",
    "careline's clamd stopped; careline is restarting it (its log: data_dir/clamd/clamd.log)",
)
UNREACHABLE = Status("clamd_unreachable", "clamd at CARELINE_CLAMD_ADDRESS does not answer")
UNKNOWN = Status("scanner_unknown", "careline has not checked its scanner yet")


def clamd_binary() -> str | None:
    path = f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"
    return shutil.which("clamd", path=path)


def has_database(directory: Path) -> bool:
    try:
        return any(
            p.suffix in DATABASE_SUFFIXES and p.is_file() and p.stat().st_size > 0
            for p in directory.iterdir()
        )
    except OSError:
        return False


def own_directory(settings: config.Settings) -> Path:
    return settings.data_dir.resolve() / "clamd"


def own_socket(settings: config.Settings) -> Path:
    """Where careline's own clamd listens: in its directory, or under /tmp when that path
    is too long for a unix socket."""
    directory = own_directory(settings)
    if len(str(directory)) + 11 <= _SOCKET_PATH_MAX:
        return directory / "clamd.sock"
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return Path("/tmp") / f"careline-clamd-{digest}" / "clamd.sock"  # noqa: S108 - dir 0700


def address(settings: config.Settings) -> str:
    """Where scans go: the configured clamd, or careline's own."""
    return settings.clamd_address or f"unix:{own_socket(settings)}"


class OwnClamd:
    """careline's own clamd process: its configuration, start and stop (blocking calls)."""

    def __init__(self, settings: config.Settings) -> None:
        self.directory = own_directory(settings)
        self.socket = own_socket(settings)
        self.database_dir = settings.clamd_database_dir
        self.stream_max_mb = settings.file_max_mb + 1
        self.process: subprocess.Popen[bytes] | None = None
        self.managed = False
        self._lock: int | None = None

    @property
    def conf(self) -> Path:
        return self.directory / "clamd.conf"

    @property
    def pidfile(self) -> Path:
        return self.directory / "clamd.pid"

    def take_lock(self) -> bool:
        """Whether this process manages the clamd of this data directory."""
        if self._lock is not None:
            return True
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / "clamd.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock, self.managed = fd, True
        return True

    def _write_conf(self) -> None:
        lines = [
            f"DatabaseDirectory {self.database_dir}",
            f"LocalSocket {self.socket}",
            "LocalSocketMode 600",
            "Foreground yes",
            f"LogFile {self.directory / 'clamd.log'}",
            "LogTime yes",
            f"PidFile {self.pidfile}",
            # At least careline's file limit, or such files stay pending; and files up to
            # it are scanned whole (clamd skips, and passes, what is over MaxFileSize).
            f"StreamMaxLength {self.stream_max_mb}M",
            f"MaxFileSize {self.stream_max_mb}M",
            f"MaxScanSize {max(400, 2 * self.stream_max_mb)}M",
        ]
        if os.geteuid() == 0:
            lines.append("User root")  # clamd's own default would drop to `clamav`
        self.conf.write_text("\n".join(lines) + "\n")

    def _stop_leftover(self) -> None:
        """A clamd left by a careline that was killed holds the socket: stop it."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if str(self.conf).encode() not in cmdline:
            return
        log.warning("stopping a clamd left running by an earlier careline", extra={"pid": pid})
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(int(STOP_SECONDS * 20)):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def start(self, binary: str) -> None:
        """Launch clamd (it answers PING once its signatures are loaded)."""
        self._stop_leftover()
        self.socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self._write_conf()
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary, no shell
            [binary, "-c", str(self.conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C in a terminal is careline's to handle
        )
        log.info("started clamd", extra={"pid": self.process.pid})

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        """SIGTERM (clamd stops within about a second), SIGKILL if it does not."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
            self.socket.unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop clamd and let go of the lock."""
        self.terminate()
        if self._lock is not None:
            os.close(self._lock)
            self._lock, self.managed = None, False


class Scanner:
    """Watches the scanner every `scanner_check_seconds` and keeps `status` current;
    for careline's own clamd, also starts it, restarts it and stops it."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.address = address(settings)
        self.own = None if settings.clamd_address else OwnClamd(settings)
        self.status = UNKNOWN
        self._task: asyncio.Task[None] | None = None
        self._started_at = 0.0
        self._next_start = 0.0
        self._backoff = RESTART_BACKOFF[0]
        self._restarts = 0

    async def start(self) -> None:
        """Check once (starting careline's own clamd if it can), then keep watching."""
        if self.own is not None:
            await asyncio.to_thread(self.own.take_lock)
        await self.check()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="clamd-watch")

    async def stop(self) -> None:
        await tasks.cancel(self._task)
        self._task = None
        if self.own is not None:
            await asyncio.to_thread(self.own.stop)

    def _set(self, status: Status) -> None:
        if status != self.status:
            level = logging.INFO if status.available else logging.WARNING
            log.log(level, "virus scanner status", extra={"scanner": status.reason or "ready"})
            self.status = status

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.settings.scanner_check_seconds)
            try:
                await self.check()
            except Exception:  # a bug here must not end supervision
                log.exception("checking the virus scanner failed; watching on")

    async def check(self) -> Status:
        if self.own is not None and not self.own.managed:
            # The careline that managed this data dir's clamd may have gone: take over.
            await asyncio.to_thread(self.own.take_lock)
        if self.own is None or not self.own.managed:
            # An external clamd, or the one another careline in this data dir manages.
            up = await scanner.ping(self.address)
            self._set(READY if up else self._why_not_external())
            return self.status
        await self._check_own(self.own)
        return self.status

    def _why_not_external(self) -> Status:
        if self.own is None:
            return UNREACHABLE
        if clamd_binary() is None:
            return NOT_INSTALLED
        if not has_database(self.settings.clamd_database_dir):
            return NO_DATABASE
        return UNREACHABLE

    async def _check_own(self, own: OwnClamd) -> None:
        if own.alive() and await self._check_running(own):
            return
        if own.process is not None and not own.alive():
            log.error("clamd exited; restarting it", extra={"exit_code": own.process.poll()})
            own.process = None
            self._restarts += 1
            self._next_start = asyncio.get_running_loop().time() + self._backoff
            self._backoff = min(self._backoff * 2, RESTART_BACKOFF[1])
        binary = clamd_binary()
        if binary is None:
            self._set(NOT_INSTALLED)
        elif not has_database(own.database_dir):
            self._set(NO_DATABASE)
        elif asyncio.get_running_loop().time() < self._next_start:
            self._set(RESTARTING)
        else:
            await self._launch(own, binary)

    async def _check_running(self, own: OwnClamd) -> bool:
        """Whether a running clamd is accounted for (answering, or still loading)."""
        if await scanner.ping(self.address):
            if not self.status.available and self._restarts:
                log.warning("clamd restarted", extra={"restarts": self._restarts})
            self._backoff = RESTART_BACKOFF[0]
            self._set(READY)
            return True
        if asyncio.get_running_loop().time() - self._started_at < START_SECONDS:
            self._set(STARTING if not self._restarts else RESTARTING)
            return True
        log.error("clamd did not answer in time; restarting it")
        await asyncio.to_thread(own.terminate)
        self._restarts += 1
        return False

    async def _launch(self, own: OwnClamd, binary: str) -> None:
        await asyncio.to_thread(own.start, binary)
        self._started_at = asyncio.get_running_loop().time()
        self._set(STARTING if not self._restarts else RESTARTING)
        # The first answer comes quickly with a small database: look again soon.
        for _ in range(40):
            await asyncio.sleep(0.05)
            if not own.alive():
                return
            if await scanner.ping(self.address, limit_seconds=0.5):
                self._backoff = RESTART_BACKOFF[0]
                self._set(READY)
                return


def preflight(settings: config.Settings) -> Status:
    """What `careline serve` will find, said before it starts (no clamd is started)."""
    if settings.clamd_address:
        up = asyncio.run(scanner.ping(settings.clamd_address))
        return READY if up else UNREACHABLE
    if clamd_binary() is None:
        return NOT_INSTALLED
    if not has_database(settings.clamd_database_dir):
        return NO_DATABASE
    return READY


class _Current:
    scanner: Scanner | None = None


_current = _Current()


def use(running: Scanner | None) -> None:
    _current.scanner = running


def status() -> Status:
    """The running server's scanner status (UNKNOWN outside `careline serve`)."""
    return _current.scanner.status if _current.scanner is not None else UNKNOWN
