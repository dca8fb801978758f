"""Media like a messaging app, and private, in the browser: a big phone photo is made
smaller and upright before it goes up (and "Send original quality" sends it whole), and
what careline serves carries no metadata either way (read with Pillow); the full-screen
viewer zooms, pans, moves between a conversation's images by swipe, keys and buttons,
and closes with Escape, giving focus back. On a desktop and on a 360 px phone."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.e2e.test_accessibility import axe
from tests.support import files
from tests.support.clamd import Clamd
from tests.support.server import RunningServer
from tests.support.world import Persona, World

SCAN_SECONDS = 30_000  # ms: an upload is checked by clamd before it can be sent


async def _served_originals(
    server: RunningServer, reader: Persona, conversation_id: str, text: str
) -> list[bytes]:
    """The originals careline serves for the files of the message with this text."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.get(
            f"/api/v1/conversations/{conversation_id}/messages?limit=50", headers=reader.auth
        )
        assert response.status_code == 200, response.text
        (found,) = [m for m in response.json()["items"] if m["text"] == text]
        out = []
        for attachment in found["attachments"]:
            seen = await http.get(f"/api/v1/attachments/{attachment['id']}", headers=reader.auth)
            assert seen.status_code == 200, seen.text
            original = await http.get(seen.json()["links"]["original"], headers=reader.auth)
            assert original.status_code == 200, original.text
            assert len(original.content) == attachment["size"]
            out.append(original.content)
        return out


def _facts(data: bytes) -> tuple[tuple[int, int], int, bool]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size, len(image.getexif()), files.has_gps(data)


async def _attach_and_send(
    page: Page, name: str, photo: bytes, text: str, *, original: bool, shot: str | None = None
) -> None:
    await page.locator("input.att-input").set_input_files(
        files=[{"name": name, "mimeType": "image/jpeg", "buffer": photo}]
    )
    item = page.locator(".att-item", has_text=name)
    choice = item.get_by_role("button", name="Send original quality")
    await expect(choice).to_be_visible()  # it was made smaller: the choice is offered
    if shot is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / shot)
    if original:
        await choice.click()
        await expect(choice).to_have_count(0)
    await expect(item.locator(".att-status")).to_have_text("Ready to send", timeout=SCAN_SECONDS)
    await composer(page).fill(text)
    await composer(page).press("Enter")
    await expect(page.locator(".att-item")).to_have_count(0)
    await expect(message(page, text)).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_big_photo_goes_up_smaller_and_upright_or_whole_on_request_and_never_with_gps(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
    viewport: dict[str, int],
) -> None:
    lily, sam = world["lily"], world["sam"]
    care = await open_care(server, sam, lily, (sam, "Could you send a photo of the wound?"))
    page = watch(await sign_in(await new_context(viewport), lily), page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await expect(message(page, "Could you send a photo of the wound?")).to_be_visible()
    # 4000x3000 as the camera stored it, to be shown turned (orientation 6): 3000x4000.
    photo = files.photo_with_gps(4000, 3000, orientation=6)
    assert files.has_gps(photo)

    size = f"{viewport['width']}x{viewport['height']}"
    await _attach_and_send(
        page, "wound.jpg", photo, "The wound today", original=False, shot=f"tray-photo-{size}.png"
    )
    (reduced,) = await _served_originals(server, sam, care, "The wound today")
    assert _facts(reduced) == ((1920, 2560), 0, False)  # long side 2560, upright, no EXIF

    await _attach_and_send(page, "wound.jpg", photo, "In full", original=True)
    (whole,) = await _served_originals(server, sam, care, "In full")
    assert _facts(whole) == ((3000, 4000), 0, False)  # full size, upright, still no EXIF
    assert b"PhoneMaker" not in whole
    assert page_errors == []


def _coloured_png(colour: tuple[int, int, int], size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


async def _three_images(server: RunningServer, world: World, text: str) -> str:
    """Lily sends three pictures in one message, over the API."""
    lily, sam = world["lily"], world["sam"]
    care = await open_care(server, sam, lily, (sam, "Photos please"))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        ids = []
        for i, colour in enumerate([(200, 40, 40), (40, 160, 60), (40, 60, 200)]):
            uploaded = await files.upload(
                http, lily, care, f"photo-{i + 1}.png", _coloured_png(colour)
            )
            assert uploaded.status_code == 201, uploaded.text
            done = await files.wait_state(http, lily, uploaded.json()["id"])
            assert done["state"] == "available", done
            ids.append(done["id"])
        sent = await files.send_with(http, lily, care, ids, text=text)
        assert sent.status_code == 201, sent.text
    return care


async def _zoom(viewer: Locator) -> float:
    return float(await viewer.get_attribute("data-zoom") or "0")


async def _shift(image: Locator) -> tuple[float, float]:
    transform: str = await image.evaluate("img => img.style.transform")
    found = re.match(r"translate\((-?[\d.]+)px, (-?[\d.]+)px\)", transform)
    assert found, transform
    return float(found.group(1)), float(found.group(2))


async def _pointer(
    stage: Locator, kind: str, pointer_id: int, x: float, y: float, touch: bool
) -> None:
    init: dict[str, Any] = {
        "pointerId": pointer_id,
        "clientX": x,
        "clientY": y,
        "button": 0,
        "buttons": 1,
        "pointerType": "touch" if touch else "mouse",
        "isPrimary": pointer_id == 1,
        "bubbles": True,
    }
    await stage.dispatch_event(kind, init)


async def _drag(
    stage: Locator, start: tuple[float, float], end: tuple[float, float], *, touch: bool
) -> None:
    """A one-finger (or mouse) drag, in a few moves."""
    await _pointer(stage, "pointerdown", 1, *start, touch)
    for step in range(1, 5):
        x = start[0] + (end[0] - start[0]) * step / 4
        y = start[1] + (end[1] - start[1]) * step / 4
        await _pointer(stage, "pointermove", 1, x, y, touch)
    await _pointer(stage, "pointerup", 1, *end, touch)


# Both taps at once: a double-tap is two taps within 300 ms, which separate round trips
# from the test could outlast on a busy machine.
_DOUBLE_TAP = """(stage, [x, y]) => {
  for (let i = 0; i < 2; i += 1) {
    for (const kind of ['pointerdown', 'pointerup']) {
      stage.dispatchEvent(new PointerEvent(kind, {
        pointerId: 1, clientX: x, clientY: y, button: 0, pointerType: 'touch', isPrimary: true, bubbles: true,
      }));
    }
  }
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_viewer_zooms_pans_moves_between_images_and_gives_focus_back(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
    viewport: dict[str, int],
) -> None:
    await _three_images(server, world, "From the garden")
    touch = viewport == PHONE
    sam = watch(await sign_in(await new_context(viewport), world["sam"]), page_errors)
    await conversation_link(sam, "Lily Client").click()
    row = message(sam, "From the garden")
    await expect(row.locator("img.att-thumb")).to_have_count(3)
    opener = row.get_by_role("button", name="Open image photo-1.png")
    await opener.focus()
    await sam.keyboard.press("Enter")

    await expect(sam.get_by_role("dialog", name="photo-1.png")).to_be_visible()
    viewer = sam.locator("dialog.iv")  # named after the image it shows, which changes
    await expect(viewer.locator(".iv-counter")).to_have_text("1 of 3")
    image = viewer.locator("img.iv-img")
    await expect(image).to_have_attribute("src", re.compile(r"/api/v1/files/"))
    await expect(image).to_have_js_property("complete", True)
    stage = viewer.locator(".iv-stage")
    box = await stage.bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # The viewer fills the screen, passes axe, and moves not at all under reduced motion
    # (every context of these tests asks for it).
    assert box["width"] >= viewport["width"] - 1
    assert await axe(sam) == []
    assert await image.evaluate("img => getComputedStyle(img).transitionDuration") == "0s"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await sam.screenshot(path=SCREENSHOTS / f"viewer-{viewport['width']}x{viewport['height']}.png")

    # Zoom: a pinch on a phone, the wheel on a desktop; then + and -; a double-tap or
    # double-click toggles.
    if touch:
        await _pointer(stage, "pointerdown", 1, cx - 30, cy, True)
        await _pointer(stage, "pointerdown", 2, cx + 30, cy, True)
        await _pointer(stage, "pointermove", 1, cx - 90, cy, True)
        await _pointer(stage, "pointermove", 2, cx + 90, cy, True)
        await _pointer(stage, "pointerup", 1, cx - 90, cy, True)
        await _pointer(stage, "pointerup", 2, cx + 90, cy, True)
    else:
        await sam.mouse.move(cx, cy)
        await sam.mouse.wheel(0, -300)
    pinched = await _zoom(viewer)
    assert pinched > 1.5
    await sam.keyboard.press("+")
    assert await _zoom(viewer) > pinched
    await sam.keyboard.press("-")
    assert await _zoom(viewer) == pytest.approx(pinched, abs=0.01)

    # Pan while zoomed: the picture follows the drag.
    before = await _shift(image)
    await _drag(stage, (cx, cy), (cx + 60, cy + 40), touch=touch)
    after = await _shift(image)
    assert after[0] > before[0]
    assert after[1] > before[1]
    assert await _zoom(viewer) == pytest.approx(pinched, abs=0.01)  # a drag is no swipe

    if touch:
        await stage.evaluate(_DOUBLE_TAP, [cx, cy])
    else:
        await stage.dblclick(position={"x": box["width"] / 2, "y": box["height"] / 2})
    await expect(viewer).to_have_attribute("data-zoom", "1.00")

    # Swipe to the next image, then the arrow keys and the buttons.
    await _drag(stage, (cx + 100, cy), (cx - 100, cy), touch=touch)
    await expect(viewer.locator(".iv-counter")).to_have_text("2 of 3")
    await expect(sam.get_by_role("dialog", name="photo-2.png")).to_be_visible()
    await sam.keyboard.press("ArrowRight")
    await expect(viewer.locator(".iv-counter")).to_have_text("3 of 3")
    await expect(viewer.get_by_role("button", name="Next image")).to_be_hidden()
    await sam.keyboard.press("ArrowLeft")
    await expect(viewer.locator(".iv-counter")).to_have_text("2 of 3")
    await viewer.get_by_role("button", name="Previous image").click()
    await expect(viewer.locator(".iv-counter")).to_have_text("1 of 3")
    await expect(image).to_have_attribute("alt", "photo-1.png")

    # Focus stays inside while tabbing round; the download gives the original.
    for _ in range(8):
        await sam.keyboard.press("Tab")
        assert await viewer.evaluate("dlg => dlg.contains(document.activeElement)")
    async with sam.expect_download() as downloading:
        await viewer.get_by_role("button", name="Download").click()
    download = await downloading.value
    assert download.suggested_filename == "photo-1.png"

    await sam.keyboard.press("Escape")
    await expect(viewer).to_have_count(0)
    assert await opener.evaluate("button => document.activeElement === button")
    assert page_errors == []


async def test_a_gif_goes_up_as_it_is_and_moves_in_the_viewer(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
) -> None:
    lily, sam = world["lily"], world["sam"]
    care = await open_care(server, sam, lily, (sam, "How are you feeling?"))
    page = watch(await sign_in(await new_context(), lily), page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await expect(message(page, "How are you feeling?")).to_be_visible()
    animation = files.gif_with_comment()
    await page.locator("input.att-input").set_input_files(
        files=[{"name": "wave.gif", "mimeType": "image/gif", "buffer": animation}]
    )
    item = page.locator(".att-item", has_text="wave.gif")
    await expect(item.locator(".att-status")).to_have_text("Ready to send", timeout=SCAN_SECONDS)
    await expect(item.get_by_role("button", name="Send original quality")).to_have_count(0)
    await composer(page).fill("Waving")
    await composer(page).press("Enter")
    await expect(message(page, "Waving")).to_be_visible()
    (served,) = await _served_originals(server, sam, care, "Waving")
    with Image.open(io.BytesIO(served)) as image:
        assert image.n_frames == 2  # still an animation: not encoded again
    assert files.metadata_left(served) == []  # but its comment and XMP are gone
    await message(page, "Waving").get_by_role("button", name="Open image wave.gif").click()
    shown = page.locator("dialog.iv img.iv-img")
    await expect(shown).to_have_js_property("complete", True)
    assert await shown.evaluate("img => img.naturalWidth") == 60
    assert page_errors == []
