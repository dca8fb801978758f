"""The health of each part careline depends on, each checked with its own timeout:
PostgreSQL and its pool, clamd, the SMTP relay, the push service, TURN, the SFU,
WhatsApp, and the disk that holds the files.

A part careline is not configured to use is `off`, never `down`. A check says how it
failed with a reason code (`timeout`, `refused`, `disk_low`...), never with what a
server answered: a banner or an error text is not ours to repeat. Each check runs
concurrently with the others, so the whole takes about one timeout at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

from careline.attachments import daemon as scanner_daemon
from careline.attachments import scanner
from careline.config import Settings
from careline.db import tx
from careline.kit.errors import DatabaseUnavailable
from careline.monitoring.records import PartHealth

PARTS = ("postgres", "pool", "clamd", "smtp", "push", "turn", "sfu", "whatsapp", "disk")

# Settings of parts other issues add (calls, WhatsApp): a URL each. Absent or unset:
# the part is off.
_URL_SETTINGS = {
    "push": "health_push_url",
    "turn": "turn_url",
    "sfu": "sfu_url",
    "whatsapp": "whatsapp_api_url",
}
_DEFAULT_PORTS = {"https": 443, "http": 80, "turn": 3478, "turns": 5349, "wss": 443, "ws": 80}


class _Down(Exception):
    """A check's verdict that the part does not work, with a reason code."""

    def __init__(
        self, reason: str, state: str = "down", figures: dict[str, float] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.state = state
        self.figures = figures or {}


Check = Callable[[Settings], Awaitable[dict[str, float]]]


async def _postgres(settings: Settings) -> dict[str, float]:
    try:
        await tx.fetch_value("SELECT 1")
    except DatabaseUnavailable:
        raise _Down("unavailable") from None
    return {}


async def _pool(settings: Settings) -> dict[str, float]:
    try:
        pool = tx.pool()
    except RuntimeError:
        raise _Down("not_started") from None
    size, idle, most = pool.get_size(), pool.get_idle_size(), pool.get_max_size()
    figures = {"in_use": float(size - idle), "size": float(size), "max": float(most)}
    if size - idle >= most:
        # Every connection is taken: requests queue for one. Working, but at its limit.
        raise _Down("exhausted", state="degraded", figures=figures)
    return figures


async def _clamd(settings: Settings) -> dict[str, float]:
    if not await scanner.ping(scanner_daemon.address(settings), limit_seconds=_timeout(settings)):
        raise _Down("no_answer")
    return {}


async def _reachable(host: str, port: int) -> None:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        raise _Down("refused") from None
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def _smtp(settings: Settings) -> dict[str, float]:
    if settings.smtp_host is None:
        raise _Down("not_configured", state="off")
    try:
        reader, writer = await asyncio.open_connection(settings.smtp_host, settings.smtp_port)
    except OSError:
        raise _Down("refused") from None
    try:
        greeting = await reader.readline()
        if not greeting.startswith(b"220"):
            raise _Down("bad_greeting")
        writer.write(b"QUIT\r\n")
        with contextlib.suppress(OSError):
            await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return {}


def _by_url(part: str) -> Check:
    async def check(settings: Settings) -> dict[str, float]:
        url = getattr(settings, _URL_SETTINGS[part], None)
        if not url:
            raise _Down("not_configured", state="off")
        parsed = urlparse(str(url))
        host = parsed.hostname
        if host is None:
            raise _Down("bad_url")
        await _reachable(host, parsed.port or _DEFAULT_PORTS.get(parsed.scheme, 443))
        return {}

    return check


def _disk_dir(settings: Settings) -> Path:
    path = settings.files_dir if settings.storage_backend == "local" else settings.data_dir
    while not path.exists() and path != path.parent:
        path = path.parent  # not made yet: the disk it will be made on
    return path


async def _disk(settings: Settings) -> dict[str, float]:
    usage = await asyncio.to_thread(shutil.disk_usage, _disk_dir(settings))
    free = 100.0 * usage.free / usage.total if usage.total else 0.0
    figures = {"free_percent": round(free, 2), "free_bytes": float(usage.free)}
    if free < settings.health_disk_low_percent:
        raise _Down("disk_low", state="degraded" if usage.free > 0 else "down", figures=figures)
    return figures


_CHECKS: dict[str, Check] = {
    "postgres": _postgres,
    "pool": _pool,
    "clamd": _clamd,
    "smtp": _smtp,
    "push": _by_url("push"),
    "turn": _by_url("turn"),
    "sfu": _by_url("sfu"),
    "whatsapp": _by_url("whatsapp"),
    "disk": _disk,
}


def _timeout(settings: Settings) -> float:
    return settings.health_check_timeout_seconds


async def _run(name: str, check: Check, settings: Settings) -> PartHealth:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(_timeout(settings)):
            figures = await check(settings)
    except _Down as down:
        state = down.state
        latency = None if state == "off" else (time.perf_counter() - started) * 1000
        return PartHealth(name, state, down.reason, latency, down.figures)  # type: ignore[arg-type]
    except TimeoutError:
        return PartHealth(name, "down", "timeout", _timeout(settings) * 1000)
    except Exception:  # a check that breaks says the part is down, not careline
        return PartHealth(name, "down", "check_failed", None)
    return PartHealth(name, "up", None, (time.perf_counter() - started) * 1000, figures)


async def check_parts(settings: Settings) -> list[PartHealth]:
    """Every part, in PARTS order, each within `health_check_timeout_seconds`."""
    return list(await asyncio.gather(*(_run(n, _CHECKS[n], settings) for n in PARTS)))


def overall(parts: list[PartHealth]) -> str:
    """`down` if any part is down, `degraded` if any is degraded, else `up`."""
    states = {p.state for p in parts}
    return "down" if "down" in states else "degraded" if "degraded" in states else "up"


class _Cache:
    settings: Settings | None = None
    at = 0.0
    parts: list[PartHealth] = []
    running: asyncio.Task[list[PartHealth]] | None = None


_cache = _Cache()
CACHE_SECONDS = 2.0  # scrapes, /health/detailed and the dashboard share one check this long


async def cached_parts(settings: Settings) -> list[PartHealth]:
    """check_parts, shared: callers within CACHE_SECONDS of a check get its result, and
    callers during a check wait for that one rather than start another (a scraper and
    every dashboard at once still open one connection per part)."""
    if _cache.settings is settings and time.monotonic() - _cache.at < CACHE_SECONDS:
        return _cache.parts
    if _cache.running is None or _cache.settings is not settings:
        _cache.settings = settings
        _cache.running = asyncio.get_running_loop().create_task(check_parts(settings))
    running = _cache.running
    try:
        parts = await asyncio.shield(running)
    finally:
        if running.done() and _cache.running is running:
            _cache.running = None
    if _cache.settings is settings:
        _cache.at, _cache.parts = time.monotonic(), parts
    return parts
