"""Files from the first start, in the browser: with no virus scanner the composer says
file sharing is paused and why (messages still go), and once a signature database
appears careline starts its own clamd and an upload goes through without a reload. A
message sent while its files are still being checked waits in the outbox ("sending when
the scan finishes") and goes out with them, or, when one is refused, says which and can
be sent without it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Locator, Page, Route, expect

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.e2e.test_accessibility import axe
from tests.support.clamd import EICAR, Clamd, write_database
from tests.support.process import DEMO_PASSWORD, own_clamd_careline
from tests.support.server import RunningServer
from tests.support.world import Persona, World

SCAN_MS = 30_000


def tray_item(page: Page, name: str) -> Locator:
    return page.locator(".att-item", has_text=name)


def outbox_row(page: Page, text: str) -> Locator:
    return page.locator("li.msg.pending", has=page.locator("p.text", has_text=text))


async def demo_sign_in(browser: Browser, base_url: str, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(
        base_url=base_url,
        viewport=viewport,  # type: ignore[arg-type]
        locale="en-GB",
        service_workers="block",
    )
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_label("E-mail address").fill("sam@riverside.demo")
    await page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("nav.sidebar")).to_be_visible()
    return page


async def test_a_first_start_without_clamd_pauses_files_and_with_one_they_go_through(
    browser: Browser, tmp_path: Path, page_errors: list[str]
) -> None:
    signatures = tmp_path / "signatures"
    signatures.mkdir()
    careline = own_clamd_careline(tmp_path / "data", signatures)
    try:
        await careline.demo()
        careline.launch()
        await careline.ready()
        sam = watch(await demo_sign_in(browser, careline.base_url, DESKTOP), page_errors)
        phone = watch(await demo_sign_in(browser, careline.base_url, PHONE), page_errors)
        for page in (sam, phone):
            await page.locator("a.conv").first.click()
            paused = page.locator(".sharing-paused")
            await expect(paused).to_be_visible()
            await expect(paused).to_contain_text(
                "File sharing is paused: the virus scanner has no virus definitions yet."
            )
            await expect(paused).to_contain_text("Messages still send.")
            attach = page.get_by_role("button", name="Attach files (file sharing is paused)")
            await expect(attach).to_have_attribute("aria-disabled", "true")
            assert await axe(page) == []  # the notice and the unavailable button read well
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            size = page.viewport_size or DESKTOP
            await page.screenshot(
                path=SCREENSHOTS / f"files-paused-{size['width']}x{size['height']}.png"
            )
        await phone.context.close()

        # A file offered anyway (picked, dropped, pasted) is not taken: no endless upload.
        await sam.locator("input.att-input").set_input_files(
            files=[{"name": "letter.txt", "mimeType": "text/plain", "buffer": b"Dear GP\n"}]
        )
        await expect(sam.locator("#toasts")).to_contain_text("Your files were not attached")
        await expect(sam.locator(".att-item")).to_have_count(0)
        # Messages still go.
        await composer(sam).fill("Text still goes while files are paused")
        await composer(sam).press("Enter")
        await expect(message(sam, "Text still goes while files are paused")).to_be_visible()

        # freshclam (here: the test) brings signatures: careline starts its clamd, and the
        # open composer notices by itself.
        staged = write_database(tmp_path / "staged")
        for f in staged.iterdir():
            os.replace(f, signatures / f.name)
        await expect(sam.locator(".sharing-paused")).to_be_hidden(timeout=SCAN_MS)
        await expect(sam.get_by_role("button", name="Attach files", exact=True)).to_have_attribute(
            "aria-disabled", "false"
        )
        await sam.locator("input.att-input").set_input_files(
            files=[{"name": "letter.txt", "mimeType": "text/plain", "buffer": b"Dear GP\n"}]
        )
        await expect(tray_item(sam, "letter.txt").locator(".att-status")).to_have_text(
            "Ready to send", timeout=SCAN_MS
        )
        await composer(sam).fill("The letter for the GP")
        await composer(sam).press("Enter")
        sent = message(sam, "The letter for the GP")
        await expect(sent.locator(".att-card", has_text="letter.txt")).to_be_visible()
        await sam.context.close()
        assert page_errors == []
    finally:
        careline.cleanup()


@contextlib.contextmanager
def frozen(clamd: Clamd) -> Iterator[None]:
    """clamd stopped in its tracks (SIGSTOP): a scan sent now waits for SIGCONT."""
    assert clamd.process is not None
    os.kill(clamd.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(clamd.process.pid, signal.SIGCONT)


class HeldUploads:
    """Uploads from a page held until released, so a file is attached (in the tray)
    before clamd is frozen."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, route: Route) -> None:
        if route.request.method == "POST":
            await self.release.wait()
        await route.continue_()


@contextlib.asynccontextmanager
async def checking(page: Page, clamd: Clamd, *uploads: tuple[str, bytes]) -> AsyncIterator[None]:
    """Attach `uploads`; inside, every one of them shows "Checking for viruses…" and
    stays so (clamd frozen) until the block ends."""
    held = HeldUploads()
    await page.route("**/api/v1/conversations/*/attachments", held)
    await page.locator("input.att-input").set_input_files(
        files=[{"name": n, "mimeType": "text/plain", "buffer": b} for n, b in uploads]
    )
    for name, _ in uploads:
        await expect(tray_item(page, name).locator(".att-status")).to_contain_text("Uploading")
    with frozen(clamd):
        held.release.set()
        for name, _ in uploads:
            await expect(tray_item(page, name).locator(".att-status")).to_have_text(
                "Checking for viruses…"
            )
        yield
    await page.unroute("**/api/v1/conversations/*/attachments")


async def server_texts(
    server: RunningServer, who: Persona, conversation_id: str
) -> list[dict[str, Any]]:
    """The conversation as the server has it (what was really sent)."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.get(
            f"/api/v1/conversations/{conversation_id}/messages?limit=200", headers=who.auth
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items


async def test_enter_while_a_file_is_checked_waits_and_sends_it_with_the_file(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
) -> None:
    care = await open_care(server, world["sam"], world["lily"], (world["sam"], "Any news?"))
    lily = watch(await sign_in(await new_context(), world["lily"]), page_errors)
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    await conversation_link(lily, "Sam Clinician").click()
    await conversation_link(sam, "Lily Client").click()
    async with checking(lily, clamd, ("readings.txt", b"120/80 on Monday\n")):
        await composer(lily).fill("My blood pressure readings")
        await composer(lily).press("Enter")
        waiting = outbox_row(lily, "My blood pressure readings")
        await expect(waiting).to_contain_text("Sending when the scan finishes")
        await expect(waiting).to_contain_text("readings.txt")
        await expect(lily.locator(".att-item")).to_have_count(0)
        await expect(composer(lily)).to_have_value("")
        texts = [m["text"] for m in await server_texts(server, world["lily"], care)]
        assert "My blood pressure readings" not in texts  # not sent without its file
    # Scanned clean: the message goes, with the file.
    for page in (lily, sam):
        sent = message(page, "My blood pressure readings")
        await expect(sent.locator(".att-card", has_text="readings.txt")).to_be_visible(
            timeout=SCAN_MS
        )
    await expect(outbox_row(lily, "My blood pressure readings")).to_have_count(0)
    stored = [m for m in await server_texts(server, world["lily"], care) if m["text"]]
    assert [a["name"] for a in stored[-1]["attachments"]] == ["readings.txt"]
    assert page_errors == []


async def test_a_refused_file_keeps_the_message_which_can_go_without_it(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
) -> None:
    care = await open_care(server, world["sam"], world["lily"], (world["sam"], "Send the forms"))
    lily = watch(await sign_in(await new_context(PHONE), world["lily"]), page_errors)
    await conversation_link(lily, "Sam Clinician").click()
    uploads = (("form.txt", b"Name: Lily\n"), ("eicar.txt", EICAR))
    async with checking(lily, clamd, *uploads):
        await lily.get_by_role("textbox", name="Write a message").fill("Both forms")
        await lily.get_by_role("button", name="Send message").click()
        await expect(outbox_row(lily, "Both forms")).to_contain_text(
            "Sending when the scan finishes"
        )
    row = outbox_row(lily, "Both forms")
    await expect(row).to_contain_text("Not sent: eicar.txt was refused", timeout=SCAN_MS)
    texts = [m["text"] for m in await server_texts(server, world["lily"], care)]
    assert "Both forms" not in texts
    await row.get_by_role("button", name="Send without eicar.txt").click()
    sent = message(lily, "Both forms")
    await expect(sent.locator(".att-card", has_text="form.txt")).to_be_visible()
    await expect(sent.locator(".att-card", has_text="eicar.txt")).to_have_count(0)
    stored = [m for m in await server_texts(server, world["lily"], care) if m["text"]]
    assert [a["name"] for a in stored[-1]["attachments"]] == ["form.txt"]
    assert page_errors == []


async def test_a_message_waiting_for_its_scan_survives_a_reload_and_still_goes_with_it(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
) -> None:
    care = await open_care(server, world["sam"], world["lily"], (world["sam"], "The letter?"))
    lily = watch(await sign_in(await new_context(), world["lily"]), page_errors)
    await conversation_link(lily, "Sam Clinician").click()
    async with checking(lily, clamd, ("letter.txt", b"To whom it may concern\n")):
        await composer(lily).fill("Here is the letter")
        await composer(lily).press("Enter")
        await expect(outbox_row(lily, "Here is the letter")).to_contain_text(
            "Sending when the scan finishes"
        )
        await lily.reload()
        waiting = outbox_row(lily, "Here is the letter")
        await expect(waiting).to_contain_text("Sending when the scan finishes")
        await expect(waiting).to_contain_text("letter.txt")
    sent = message(lily, "Here is the letter")
    await expect(sent.locator(".att-card", has_text="letter.txt")).to_be_visible(timeout=SCAN_MS)
    stored = [m for m in await server_texts(server, world["lily"], care) if m["text"]]
    assert stored[-1]["text"] == "Here is the letter"
    assert [a["name"] for a in stored[-1]["attachments"]] == ["letter.txt"]
    assert page_errors == []
