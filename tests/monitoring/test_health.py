"""Each part careline depends on, checked for real with a timeout each: PostgreSQL and
its pool, a clamd of this test's own (started and stopped here; the session's stays
up), an SMTP relay, a port nobody listens on, one that never answers, and the disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from careline.db import tx
from careline.monitoring import health
from careline.monitoring.records import PartHealth
from tests.support.clamd import Clamd
from tests.support.server import RunningServer, free_port
from tests.support.smtp import SmtpServer


def by_name(parts: list[PartHealth]) -> dict[str, PartHealth]:
    return {p.name: p for p in parts}


@pytest.fixture
def own_clamd(tmp_path: Path) -> Iterator[Clamd]:
    """A clamd of this test's own, so stopping it leaves the session's alone."""
    daemon = Clamd(tmp_path / "clamd")
    daemon.directory.mkdir()
    daemon.start()
    yield daemon
    if daemon.process is not None:
        daemon.stop()


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


def closed_port() -> int:
    """A loopback port with no listener (bound once, then let go)."""
    return free_port()


async def test_every_part_is_reported_and_unconfigured_ones_are_off(
    server: RunningServer,
) -> None:
    settings = server.settings.model_copy(update={"smtp_host": None})
    parts = await health.check_parts(settings)
    assert [p.name for p in parts] == list(health.PARTS)
    found = by_name(parts)
    assert found["postgres"].state == "up", found["postgres"]
    assert found["postgres"].latency_ms is not None
    assert found["pool"].state == "up"
    assert found["pool"].figures["max"] == settings.db_pool_size
    assert 0 <= found["pool"].figures["in_use"] <= found["pool"].figures["size"]
    for part in ("smtp", "push", "turn", "sfu", "whatsapp"):
        assert found[part] == PartHealth(part, "off", "not_configured"), found[part]
    assert found["disk"].state == "up"
    assert 0 < found["disk"].figures["free_percent"] <= 100


async def test_clamd_up_then_down_when_stopped(server: RunningServer, own_clamd: Clamd) -> None:
    settings = server.settings.model_copy(update={"clamd_address": f"unix:{own_clamd.socket}"})
    assert by_name(await health.check_parts(settings))["clamd"].state == "up"
    own_clamd.stop()
    clamd = by_name(await health.check_parts(settings))["clamd"]
    assert (clamd.state, clamd.reason) == ("down", "no_answer")


async def test_smtp_up_with_a_relay_down_without_one(server: RunningServer) -> None:
    relay = SmtpServer(free_port())
    relay.start()
    try:
        settings = server.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": relay.port}
        )
        assert by_name(await health.check_parts(settings))["smtp"].state == "up"
    finally:
        relay.stop()
    smtp = by_name(await health.check_parts(settings))["smtp"]
    assert (smtp.state, smtp.reason) == ("down", "refused")


async def test_a_part_that_never_answers_is_down_after_its_timeout(
    server: RunningServer, silent_port: int
) -> None:
    settings = server.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": silent_port,
            "health_check_timeout_seconds": 0.2,
        }
    )
    smtp = by_name(await health.check_parts(settings))["smtp"]
    assert (smtp.state, smtp.reason) == ("down", "timeout")


async def test_a_configured_push_service_that_is_unreachable_is_down(
    server: RunningServer, silent_port: int
) -> None:
    reachable = server.settings.model_copy(
        update={"health_push_url": f"http://127.0.0.1:{silent_port}/"}
    )
    assert by_name(await health.check_parts(reachable))["push"].state == "up"
    unreachable = server.settings.model_copy(
        update={"health_push_url": f"https://127.0.0.1:{closed_port()}/"}
    )
    push = by_name(await health.check_parts(unreachable))["push"]
    assert (push.state, push.reason) == ("down", "refused")


async def test_disk_nearly_full_is_degraded(server: RunningServer) -> None:
    settings = server.settings.model_copy(update={"health_disk_low_percent": 100.0})
    disk = by_name(await health.check_parts(settings))["disk"]
    assert (disk.state, disk.reason) == ("degraded", "disk_low")
    assert disk.figures["free_percent"] < 100


def test_overall_is_the_worst_state_and_off_does_not_count() -> None:
    up, off = PartHealth("postgres", "up"), PartHealth("turn", "off", "not_configured")
    degraded, down = PartHealth("disk", "degraded", "disk_low"), PartHealth("clamd", "down")
    assert health.overall([up, off]) == "up"
    assert health.overall([up, degraded, off]) == "degraded"
    assert health.overall([up, degraded, down]) == "down"


async def test_a_pool_with_every_connection_taken_is_degraded(server: RunningServer) -> None:
    pool = tx.pool()
    settings = server.settings.model_copy(update={"health_check_timeout_seconds": 0.3})
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        found = by_name(await health.check_parts(settings))
    finally:
        for conn in held:
            await pool.release(conn)
    assert (found["pool"].state, found["pool"].reason) == ("degraded", "exhausted")
    assert found["pool"].figures["in_use"] == found["pool"].figures["max"]
    # The database itself could not be asked within the timeout: no connection was free.
    assert (found["postgres"].state, found["postgres"].reason) == ("down", "timeout")
    assert by_name(await health.check_parts(settings))["pool"].state == "up"
