"""A photo or a PDF sent by one participant reaches the others: scanned, previewed
(re-encoded, without EXIF or GPS), and served only as the issue asks."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.support import files
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect


async def _download(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    response = await http.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def test_a_photo_reaches_the_other_participants_with_clean_previews(
    server: RunningServer, http: httpx.AsyncClient, world: World, care: str
) -> None:
    lily, sam = world["lily"], world["sam"]
    photo = files.photo_with_gps(1600, 1200, orientation=6)
    assert files.has_gps(photo)
    async with (
        connect(server.ws_url, lily.token) as lily_ws,
        connect(server.ws_url, sam.token) as sam_ws,
    ):
        uploaded = await files.upload(http, lily, care, "rash on arm.jpeg", photo)
        assert uploaded.status_code == 201, uploaded.text
        attachment = uploaded.json()
        assert attachment["state"] == "pending"
        assert attachment["links"] == {}
        # Until it is scanned and sent, it is lily's alone.
        hidden = await http.get(f"/api/v1/attachments/{attachment['id']}", headers=sam.auth)
        assert hidden.status_code == 404, hidden.text

        ready = await lily_ws.next_event(
            "attachment.updated", where=lambda f: f["attachment_id"] == attachment["id"], timeout=30
        )
        assert ready["state"] == "available"
        await sam_ws.assert_no_event("attachment.updated")

        sent = await files.send_with(http, lily, care, [attachment["id"]], text="Is this normal?")
        assert sent.status_code == 201, sent.text
        event = await sam_ws.next_event("message.sent", timeout=10)
        (shown,) = event["message"]["attachments"]
        assert shown["id"] == attachment["id"]
        assert shown["name"] == "rash on arm.jpeg"
        assert shown["kind"] == "image"
        assert shown["media_type"] == "image/jpeg"
        assert sorted(shown["previews"]) == ["preview", "thumb"]

    for viewer in (sam, world["grace"]):
        seen = await http.get(f"/api/v1/attachments/{attachment['id']}", headers=viewer.auth)
        assert seen.status_code == 200, seen.text
        links = seen.json()["links"]
        assert set(links) == {"original", "thumb", "preview"}

        thumb = await _download(http, links["thumb"], viewer.auth)
        assert thumb.headers["content-type"] == "image/jpeg"
        assert thumb.headers["content-disposition"].startswith("inline")
        with Image.open(io.BytesIO(thumb.content)) as image:
            assert len(image.getexif()) == 0, "the thumbnail kept EXIF data"
            assert not image.getexif().get_ifd(files.GPS_IFD)
            assert "exif" not in image.info
            # Upright (EXIF orientation 6 applied), then scaled to the thumbnail size.
            assert image.size == (240, 320)
        assert b"PhoneMaker" not in thumb.content

        preview = await _download(http, links["preview"], viewer.auth)
        assert not files.has_gps(preview.content)
        with Image.open(io.BytesIO(preview.content)) as image:
            assert image.size == (1200, 1600)

        # The original too: without its metadata, and upright (see test_metadata.py).
        original = await _download(http, links["original"], viewer.auth)
        assert not files.has_gps(original.content)
        assert b"PhoneMaker" not in original.content
        with Image.open(io.BytesIO(original.content)) as image:
            assert image.size == (1200, 1600)
        disposition = original.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''rash%20on%20arm.jpeg" in disposition
        for response in (thumb, preview, original):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in response.headers["content-security-policy"]
            assert "default-src 'none'" in response.headers["content-security-policy"]
            assert response.headers["cross-origin-resource-policy"] == "same-origin"


async def test_a_pdf_gets_a_first_page_preview(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    sam, lily = world["sam"], world["lily"]
    uploaded = await files.upload(
        http, sam, care, "Assessment report", files.pdf_page((200, 30, 30))
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["name"] == "Assessment report.pdf"  # the extension follows the content
    assert attachment["kind"] == "pdf"
    done = await files.wait_state(http, sam, attachment["id"])
    assert done["state"] == "available"
    assert (await files.send_with(http, sam, care, [attachment["id"]])).status_code == 201

    seen = (await http.get(f"/api/v1/attachments/{attachment['id']}", headers=lily.auth)).json()
    assert sorted(seen["previews"]) == ["preview", "thumb"]
    preview = await _download(http, seen["links"]["preview"], lily.auth)
    assert preview.headers["content-disposition"].startswith("inline")
    with Image.open(io.BytesIO(preview.content)) as image:
        assert max(image.size) == 2048  # an A4 page at the preview size
        red, green, blue = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
        assert red > 150, "the preview shows the red page"
        assert max(green, blue) < 80, "the preview shows the red page"
    original = await _download(http, seen["links"]["original"], lily.auth)
    assert original.headers["content-type"] == "application/pdf"
    assert original.headers["content-disposition"].startswith("attachment;")


async def test_a_very_large_photo_is_compressed_for_viewing(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    sam = world["sam"]
    big = files.photo_with_gps(6000, 4000, orientation=1)
    uploaded = await files.upload(http, sam, care, "wound.jpg", big)
    assert uploaded.status_code == 201, uploaded.text
    done = await files.wait_state(http, sam, uploaded.json()["id"])
    assert done["width"] == 6000
    assert done["height"] == 4000
    preview = await _download(http, done["links"]["preview"], sam.auth)
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.size == (2048, 1365)
    assert len(preview.content) < len(big)


async def test_a_text_file_is_served_as_inert_plain_text(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    sam, lily = world["sam"], world["lily"]
    notes = b"Session notes: sleep improving; plan reviewed.\n"
    uploaded = await files.upload(http, sam, care, "notes.txt", notes)
    assert uploaded.status_code == 201, uploaded.text
    done = await files.wait_state(http, sam, uploaded.json()["id"])
    assert done["previews"] == []
    assert (await files.send_with(http, sam, care, [done["id"]])).status_code == 201
    seen = (await http.get(f"/api/v1/attachments/{done['id']}", headers=lily.auth)).json()
    response = await _download(http, seen["links"]["original"], lily.auth)
    assert response.content == notes
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    partial = await http.get(
        seen["links"]["original"], headers={**lily.auth, "Range": "bytes=8-12"}
    )
    assert partial.status_code == 206, partial.text
    assert partial.content == b"notes"
    assert partial.headers["content-range"] == f"bytes 8-12/{len(notes)}"
