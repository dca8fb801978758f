"""Files in the browser, against the real careline and a real clamd: attach by button,
paste or drop; the progress bar moves and an upload can be cancelled (leaving nothing
on the server); an image appears inline for the other participant and opens in the
full-screen viewer (more of it in test_media.py); a PDF shows its first page; a refused file says why."""

from __future__ import annotations

import asyncio
import io
import os
import re

from PIL import Image
from playwright.async_api import Locator, Page, expect

from tests.attachments.conftest import objects_of, rows_of
from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.support import files
from tests.support.clamd import Clamd
from tests.support.server import RunningServer
from tests.support.world import World

SCAN_SECONDS = 30_000  # ms: an upload is checked by clamd before it can be sent


def tray_item(page: Page, name: str) -> Locator:
    return page.locator(".att-item", has_text=name)


async def natural_width(image: Locator) -> int:
    """Once careline's own link is in place and the picture has loaded."""
    await expect(image).to_have_attribute("src", re.compile(r"/api/v1/files/"))
    await expect(image).to_have_js_property("complete", True)
    width: int = await image.evaluate("img => img.naturalWidth")
    return width


async def _both_in_thread(
    server: RunningServer, world: World, new_context: NewContext, errors: list[str]
) -> tuple[Page, Page]:
    await open_care(
        server, world["sam"], world["lily"], (world["sam"], "Could you send me the photos?")
    )
    lily = watch(await sign_in(await new_context(), world["lily"]), errors)
    sam = watch(await sign_in(await new_context(), world["sam"]), errors)
    await conversation_link(lily, "Sam Clinician").click()
    await conversation_link(sam, "Lily Client").click()
    await expect(message(lily, "Could you send me the photos?")).to_be_visible()
    return lily, sam


async def test_an_image_attached_by_button_appears_inline_for_the_other_participant(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
) -> None:
    lily, sam = await _both_in_thread(server, world, new_context, page_errors)
    photo = files.photo_with_gps(1600, 1200, orientation=6)
    await expect(lily.get_by_role("button", name="Attach files")).to_be_visible()
    await lily.locator("input.att-input").set_input_files(
        files=[{"name": "rash.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    item = tray_item(lily, "rash.jpg")
    await expect(item.locator(".att-status")).to_have_text("Ready to send", timeout=SCAN_SECONDS)
    await composer(lily).fill("Here is the rash")
    await composer(lily).press("Enter")
    await expect(lily.locator(".att-item")).to_have_count(0)

    # Sam sees the picture in the thread, as a thumbnail careline made (upright, small).
    row = message(sam, "Here is the rash")
    thumb = row.locator("img.att-thumb")
    await expect(thumb).to_be_visible()
    assert await natural_width(thumb) == 240
    await row.get_by_role("button", name="Open image rash.jpg").click()
    viewer = sam.get_by_role("dialog", name="rash.jpg")
    shown = viewer.locator("img.iv-img")
    await expect(shown).to_be_visible()
    assert await natural_width(shown) == 1200
    async with sam.expect_download() as downloading:
        await viewer.get_by_role("button", name="Download").click()
    download = await downloading.value
    assert download.suggested_filename == "rash.jpg"
    saved = await download.path()
    assert saved is not None
    # Prepared in lily's browser (upright), and without the GPS position it was taken at.
    assert not files.has_gps(saved.read_bytes())
    with Image.open(saved) as image:
        assert image.size == (1200, 1600)
    await sam.keyboard.press("Escape")
    await expect(viewer).to_have_count(0)
    assert page_errors == []


async def test_the_progress_bar_moves_and_an_upload_can_be_cancelled(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
) -> None:
    lily, _ = await _both_in_thread(server, world, new_context, page_errors)
    # A slow uplink (about 256 KB/s), as on a phone, so the upload takes a while.
    cdp = await lily.context.new_cdp_session(lily)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 256 * 1024},
    )
    scan = b"%PDF-1.7\n" + os.urandom(4 * 1024 * 1024)
    await lily.locator("input.att-input").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": scan}]
    )
    bar = tray_item(lily, "scan.pdf").locator("progress")
    await expect(bar).to_be_visible()
    seen: list[int] = []
    for _ in range(100):
        seen.append(int(await bar.evaluate("p => p.value")))
        if len({v for v in seen if 0 < v < 100}) >= 3:
            break
        await asyncio.sleep(0.1)
    moving = [v for v in seen if 0 < v < 100]
    assert len(set(moving)) >= 3, f"the bar did not move: {seen}"
    assert moving == sorted(moving)
    await expect(tray_item(lily, "scan.pdf").locator(".att-status")).to_contain_text("Uploading")
    # The server is receiving (and encrypting) it meanwhile ...
    for _ in range(50):
        if objects_of(world.tenant_id):
            break
        await asyncio.sleep(0.1)
    assert objects_of(world.tenant_id), "the upload reached the server"

    await lily.get_by_role("button", name="Cancel scan.pdf").click()
    await expect(lily.locator(".att-item")).to_have_count(0)
    # ... and once cancelled, keeps nothing of it: no row, no partial bytes.
    for _ in range(100):
        if not objects_of(world.tenant_id):
            break
        await asyncio.sleep(0.1)
    assert objects_of(world.tenant_id) == []
    assert await rows_of(world.tenant_id) == 0
    assert page_errors == []


_DROP = """(target, items) => {
  const dt = new DataTransfer();
  for (const [name, type, bytes] of items) dt.items.add(new File([new Uint8Array(bytes)], name, { type }));
  for (const kind of ['dragenter', 'dragover', 'drop']) {
    target.dispatchEvent(new DragEvent(kind, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }
}"""

_PASTE = """(input, [name, type, bytes]) => {
  const dt = new DataTransfer();
  dt.items.add(new File([new Uint8Array(bytes)], name, { type }));
  input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
}"""


def _small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def test_files_pasted_and_dropped_are_sent_and_a_refused_one_says_why(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
) -> None:
    lily, sam = await _both_in_thread(server, world, new_context, page_errors)
    await composer(lily).evaluate(_PASTE, ["screenshot.png", "image/png", list(_small_png())])
    await lily.locator("section.thread").evaluate(
        _DROP,
        [
            ["assessment.pdf", "application/pdf", list(files.pdf_page((30, 160, 60)))],
            ["holiday.png", "image/png", list(files.HTML_PAGE)],
        ],
    )
    refused = tray_item(lily, "holiday.png")
    await expect(refused.locator(".att-status")).to_contain_text("web pages")
    await expect(refused).to_have_class("att-item att-failed")
    for name in ("screenshot.png", "assessment.pdf"):
        await expect(tray_item(lily, name).locator(".att-status")).to_have_text(
            "Ready to send", timeout=SCAN_SECONDS
        )
    # Files alone make a message: no text needed.
    await lily.get_by_role("button", name="Send message").click()
    await expect(tray_item(lily, "screenshot.png")).to_have_count(0)
    await expect(refused).to_be_visible()  # the refusal stays until dismissed
    await lily.get_by_role("button", name="Remove holiday.png").click()
    await expect(lily.locator(".att-item")).to_have_count(0)

    row = sam.locator(
        "li.msg:not(.pending)", has=sam.locator(".att-card", has_text="assessment.pdf")
    )
    await expect(row.locator("img.att-thumb")).to_be_visible()
    card = row.locator(".att-card", has_text="assessment.pdf")
    await expect(card).to_contain_text("PDF")
    await card.get_by_role("button", name="Preview assessment.pdf").click()
    viewer = sam.get_by_role("dialog", name="assessment.pdf")
    page_image = viewer.locator("img.viewer-img")
    await expect(page_image).to_be_visible()
    assert await natural_width(page_image) > 1000  # the first page, rendered by careline
    await expect(viewer).to_contain_text("First page")
    await sam.keyboard.press("Escape")
    await expect(conversation_link(sam, "Lily Client")).to_contain_text("2 files")
    assert page_errors == []
