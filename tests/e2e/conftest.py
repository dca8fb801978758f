"""Browser tests: Debian's Chromium driven by Playwright against the real careline of the
session (embedded PostgreSQL, real sockets). One browser per run, a fresh context (own
cookies, storage and service workers) per person per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.support.clamd import Clamd
from tests.support.server import RunningServer

# Waits poll, so a passing test pays nothing for these bounds; they are sized for a
# 2-core machine whose other core runs PostgreSQL, clamd and the checking children (a
# PDF preview under that load took over the 5 s Playwright gives an expect by default).
expect.set_options(timeout=15_000)

# Debian's chromium package; `playwright install` (a download) is never used.
CHROMIUM = os.environ.get("CARELINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}

NewContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/system-packages.txt)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def new_context(
    browser: Browser, server: RunningServer, clamd: Clamd
) -> AsyncIterator[NewContext]:
    """Make browser contexts (one per person); all are closed after the test. clamd runs,
    as on a working install: without it the composer says file sharing is paused."""
    contexts: list[BrowserContext] = []

    async def make(
        viewport: dict[str, int] | None = None, *, service_workers: str = "block"
    ) -> BrowserContext:
        context = await browser.new_context(
            base_url=server.base_url,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            locale="en-GB",
            timezone_id="Europe/London",
            service_workers=service_workers,  # type: ignore[arg-type]
            reduced_motion="reduce",
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
async def page_errors() -> list[str]:
    """Uncaught errors of every page a test watches (see watch())."""
    return []


def watch(page: Page, errors: list[str]) -> Page:
    """Collect the page's uncaught errors and unhandled rejections. The browser's own
    "Failed to load resource" lines are left out: tests provoke refusals (a 403, a 413)
    on purpose. An anonymous visit must log none at all: test_fast.py checks that."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    return page
