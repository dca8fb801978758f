"""careline and the embedded PostgreSQL it manages, across crashes: it adopts a server
left running by a careline that was killed and stops it on SIGTERM, and a postmaster.pid
left by a reboot or a crash (naming an unrelated process, or a zombie) does not stop it
from starting."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from careline.db.embedded import is_postmaster_of
from tests.support.process import CarelineProcess


@pytest.fixture
def careline(tmp_path: Path) -> Iterator[CarelineProcess]:
    process = CarelineProcess(tmp_path / "data")
    try:
        yield process
    finally:
        process.cleanup()


async def test_sigterm_stops_a_server_adopted_after_a_crash(careline: CarelineProcess) -> None:
    careline.launch()
    await careline.ready()
    postmaster = careline.postmaster_pid()
    assert postmaster is not None
    careline.kill()  # careline dies; its PostgreSQL does not
    assert is_postmaster_of(postmaster, careline.pgdata)

    careline.launch()
    await careline.ready()
    assert careline.postmaster_pid() == postmaster, "the running server is adopted"
    assert careline.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after its shutdown
    assert not is_postmaster_of(postmaster, careline.pgdata), careline.log()[-3000:]
    assert careline.postmaster_pid() is None
    assert "embedded PostgreSQL already running" in careline.log()


def _stale_pidfile(careline: CarelineProcess, pid: int) -> None:
    """A postmaster.pid as a server leaves it when it dies without cleaning up (power
    loss, kill -9), but naming `pid`."""
    pidfile = careline.pgdata / "postmaster.pid"
    lines = careline.last_pidfile.split("\n")
    pidfile.write_text("\n".join([str(pid), *lines[1:]]))


@pytest.fixture
def unrelated() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that has nothing to do with PostgreSQL (after a reboot, the pid in
    the file may well be one)."""
    process = subprocess.Popen(["sleep", "120"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def zombie() -> Iterator[subprocess.Popen[bytes]]:
    """A process that has exited and was never reaped: `kill(pid, 0)` still succeeds."""
    process = subprocess.Popen(["true"])
    for _ in range(200):
        stat = Path(f"/proc/{process.pid}/stat").read_text()
        if stat.rpartition(")")[2].split()[0] == "Z":
            break
        subprocess.run(["sleep", "0.01"], check=True)
    else:
        raise AssertionError("no zombie")
    yield process
    process.wait()


@pytest.mark.parametrize("stale", ["unrelated", "zombie"])
async def test_a_stale_pid_file_does_not_stop_careline_from_starting(
    careline: CarelineProcess, stale: str, request: pytest.FixtureRequest
) -> None:
    careline.launch()
    await careline.ready()
    careline.last_pidfile = (careline.pgdata / "postmaster.pid").read_text()
    assert careline.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after its shutdown
    assert not (careline.pgdata / "postmaster.pid").exists()

    process: subprocess.Popen[bytes] = request.getfixturevalue(stale)
    _stale_pidfile(careline, process.pid)
    careline.launch()
    await careline.ready()
    postmaster = careline.postmaster_pid()
    assert postmaster is not None
    assert postmaster != process.pid
    assert careline.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after its shutdown
    assert not is_postmaster_of(postmaster, careline.pgdata)
