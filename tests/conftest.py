"""Session fixtures: one real careline (embedded PostgreSQL, real sockets) for the run;
a fresh organisation of named personas for each test."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from careline import config, logs
from tests.support.clamd import Clamd
from tests.support.pushservice import PushService
from tests.support.server import RunningServer, free_port, start_server, test_settings
from tests.support.smtp import SmtpServer
from tests.support.world import World, make_world


class LogCapture(logging.Handler):
    """Every log line the server writes during the run, formatted as it would be."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logs.KeyValueFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session")
def log_capture() -> LogCapture:
    return LogCapture()


@pytest.fixture(scope="session")
async def server(
    tmp_path_factory: pytest.TempPathFactory, log_capture: LogCapture
) -> AsyncIterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("careline")
    settings = test_settings(data_dir, free_port())
    logs.configure("debug")
    # The test's own clients (and its SMTP relay) log at debug level; they are not the server.
    for client_side in ("websockets.client", "httpx", "httpcore", "mail.log"):
        logging.getLogger(client_side).setLevel(logging.WARNING)
    logging.getLogger().addHandler(log_capture)
    running = await start_server(settings)
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def clamd(server: RunningServer) -> AsyncIterator[Clamd]:
    """A real clamd (EICAR signatures only) where the server's settings look for it."""
    address = server.settings.clamd_address
    assert address.startswith("unix:")
    daemon = Clamd(Path(address.removeprefix("unix:")).parent)
    daemon.start()
    await wait_until_the_server_scans(server)
    yield daemon
    daemon.stop()


async def wait_until_the_server_scans(server: RunningServer) -> None:
    """careline checks its scanner every `scanner_check_seconds`: a page opened before it
    has seen this clamd would say file sharing is paused."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        while (await client.get("/health/ready")).json().get("status") != "ready":
            assert time.monotonic() < deadline, "careline never saw the tests' clamd"
            await asyncio.sleep(0.1)  # a poll: it ends as soon as careline answers ready


@pytest.fixture
async def world(server: RunningServer) -> World:
    return await make_world(server.base_url)


@pytest.fixture
async def other_world(server: RunningServer) -> World:
    """A second organisation: its people must never see the first's data."""
    return await make_world(server.base_url)


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def relay(server: RunningServer) -> Iterator[SmtpServer]:
    """A real SMTP server, and careline configured to send through it for this test
    (without one, careline sends no e-mail and shows invitation links to the admin)."""
    running = SmtpServer(free_port())
    running.start()
    config.use(
        server.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": running.port, "smtp_starttls": False}
        )
    )
    yield running
    config.use(server.settings)
    running.stop()


@pytest.fixture(scope="session")
def push_service() -> Iterator[PushService]:
    """The local push service (tests/support/pushservice.py): subscriptions made on it
    get careline's pushes, checked against RFC 8030/8291/8292 and decrypted."""
    running = PushService()
    running.start()
    yield running
    running.stop()
