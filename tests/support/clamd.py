"""A real clamd for the tests, with a home-made signature database that detects the
EICAR test file (alone, and inside other files such as zips), as COMPONENTS.md shows.
freshclam never runs: nothing is downloaded."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

# The EICAR test string, split so that this source file itself is not "infected".
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def write_database(db: Path) -> Path:
    """A signature database in `db` that detects only EICAR (alone and inside files)."""
    db.mkdir(parents=True, exist_ok=True)
    (db / "test.hdb").write_text(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Test.EICAR.MD5\n")
    (db / "test.ndb").write_text(f"Test.EICAR.Body:0:*:{EICAR.hex()}\n")
    return db


class Clamd:
    """clamd on a unix socket in `directory`; start() and stop() may repeat."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "clamd.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def _configure(self, stream_max: str) -> Path:
        db = write_database(self.directory / "db")
        conf = self.directory / "clamd.conf"
        lines = [
            f"DatabaseDirectory {db}",
            f"LocalSocket {self.socket}",
            "Foreground yes",
            f"LogFile {self.directory / 'clamd.log'}",
            f"PidFile {self.directory / 'clamd.pid'}",
            # At least careline's file limit (25 MiB by default), or such files stay pending.
            f"StreamMaxLength {stream_max}",
        ]
        if os.geteuid() == 0:
            lines.append("User root")
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self.socket))
                s.sendall(b"zPING\0")
                return s.recv(64).rstrip(b"\0") == b"PONG"
        except OSError:
            return False

    @staticmethod
    def binary() -> str:
        found = shutil.which("clamd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        if found is None:
            raise RuntimeError("clamd is missing: run `make system-deps` (clamav-daemon)")
        return found

    def start(self, *, stream_max: str = "30M") -> None:
        assert self.process is None, "clamd is running already"
        conf = self._configure(stream_max)
        self.process = subprocess.Popen(
            [self.binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "clamd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"clamd did not start:\n{log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.socket.unlink(missing_ok=True)
