"""Every image careline serves carries no metadata: a family photo must not say where the
family lives. Uploaded through the real API, scanned by the real clamd, downloaded by
another participant and read with Pillow: the original (cleaned in the checking child,
upright), the preview and the thumbnail."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageOps

from careline.attachments import clean, examining, service, sniff
from careline.attachments.chunks import object_key
from careline.attachments.records import VariantName
from careline.attachments.storage import LocalStore
from careline.keys.service import BoundKey
from careline.kit import limits
from careline.kit.crypto import new_key
from tests.support import files
from tests.support.world import World


async def _sent_and_seen(
    http: httpx.AsyncClient, world: World, care: str, name: str, data: bytes
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Lily uploads and sends the file; Sam reads its record and downloads each variant."""
    lily, sam = world["lily"], world["sam"]
    uploaded = await files.upload(http, lily, care, name, data)
    assert uploaded.status_code == 201, uploaded.text
    done = await files.wait_state(http, lily, uploaded.json()["id"])
    assert done["state"] == "available", done
    sent = await files.send_with(http, lily, care, [done["id"]])
    assert sent.status_code == 201, sent.text
    seen = await http.get(f"/api/v1/attachments/{done['id']}", headers=sam.auth)
    assert seen.status_code == 200, seen.text
    record: dict[str, Any] = seen.json()
    served = {}
    for variant, url in record["links"].items():
        response = await http.get(url, headers=sam.auth)
        assert response.status_code == 200, response.text
        served[variant] = response.content
    return record, served


def _red_corners(data: bytes, *, upright: bool = False) -> list[int]:
    """Which corners (clockwise from the top left) of the picture are red: the test
    pictures have a red block in one, so it says which way up the picture is shown. With
    `upright`, as a viewer honouring its EXIF orientation would show it."""
    with Image.open(io.BytesIO(data)) as opened:
        image = (ImageOps.exif_transpose(opened) if upright else opened).convert("RGB")
        w, h = image.width - 5, image.height - 5
        pixels = [image.getpixel(xy) for xy in ((4, 4), (w, 4), (w, h), (4, h))]
    return [i for i, (r, g, b) in enumerate(pixels) if r > 180 and g < 80 and b < 80]


@pytest.mark.parametrize(
    ("name", "make", "media_type", "shown"),
    [
        (
            "wound.jpg",
            lambda: files.photo_with_everything(1600, 1200, orientation=6),
            "image/jpeg",
            (1200, 1600),
        ),
        (
            "mirrored.jpg",
            lambda: files.photo_with_everything(640, 480, orientation=3),
            "image/jpeg",
            (640, 480),
        ),
        (
            "screenshot.png",
            lambda: files.png_with_metadata_chunks(300, 200, orientation=8),
            "image/png",
            (200, 300),
        ),
        ("sticker.png", lambda: files.png_with_metadata_chunks(300, 200), "image/png", (300, 200)),
        (
            "photo.webp",
            lambda: files.webp_with_metadata(400, 300, orientation=6),
            "image/webp",
            (300, 400),
        ),
        ("wave.gif", files.gif_with_comment, "image/gif", (60, 40)),
    ],
)
async def test_every_served_image_is_without_metadata_and_upright(
    http: httpx.AsyncClient,
    world: World,
    care: str,
    name: str,
    make: Any,
    media_type: str,
    shown: tuple[int, int],
) -> None:
    data = make()
    assert files.metadata_left(data), "the test file carries metadata to take out"
    record, served = await _sent_and_seen(http, world, care, name, data)
    assert record["media_type"] == media_type
    assert (record["width"], record["height"]) == shown  # upright: turned when it said so
    original = served["original"]
    assert record["size"] == len(original)  # what is recorded is what is served
    expected = _red_corners(data, upright=True)
    assert len(expected) == 1
    for variant in ("original", "preview", "thumb"):
        assert files.metadata_left(served[variant]) == [], variant
        assert _red_corners(served[variant]) == expected, f"{variant} is not the right way up"
        assert not files.has_gps(served[variant])
    with Image.open(io.BytesIO(original)) as image:
        assert image.format == media_type.split("/")[1].upper()
        assert image.size == shown
        assert "icc_profile" not in image.info or image.info["icc_profile"]


async def test_an_upright_jpeg_loses_its_metadata_and_nothing_of_its_picture(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    photo = files.photo_with_everything(800, 600, orientation=1)
    _, served = await _sent_and_seen(http, world, care, "upright.jpg", photo)
    original = served["original"]
    assert files.metadata_left(original) == []
    assert len(original) < len(photo)
    with Image.open(io.BytesIO(original)) as clean_image, Image.open(io.BytesIO(photo)) as first:
        # Not encoded again: the same compressed pixels decode to the very same picture.
        assert clean_image.tobytes() == first.tobytes()


def test_an_animation_keeps_its_frames_and_loop() -> None:
    cleaned, width, height = clean.clean(files.gif_with_comment(), sniff.GIF)
    assert (width, height) == (60, 40)
    assert files.metadata_left(cleaned) == []
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.n_frames == 2
        assert image.info.get("loop") == 0


def test_an_already_clean_image_comes_out_unchanged() -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, format="JPEG")
    assert clean.clean(out.getvalue(), sniff.JPEG)[0] == out.getvalue()
    out = io.BytesIO()
    Image.new("RGBA", (64, 48), (10, 200, 30, 100)).save(out, format="PNG")
    assert clean.clean(out.getvalue(), sniff.PNG)[0] == out.getvalue()


async def test_a_clean_copy_over_its_bound_is_refused(tmp_path: Path) -> None:
    """An image encoded again may grow, up to CLEAN_IMAGE_MAX_FACTOR times the file limit."""
    plan = service.UploadPlan(
        uuid.uuid4(), uuid.uuid4(), "x.jpg", BoundKey(uuid.uuid4(), 1, new_key()), max_bytes=10
    )
    store = LocalStore(tmp_path)
    key = object_key(uuid.uuid4(), uuid.uuid4(), VariantName.ORIGINAL)
    rewriter = service._Rewriter(plan, store.writer(key))
    await rewriter.take(b"x" * (10 * limits.CLEAN_IMAGE_MAX_FACTOR))
    await rewriter.commit()  # at the bound: kept
    assert store.size(key)
    rewriter = service._Rewriter(plan, store.writer(key))
    await rewriter.take(b"x" * (10 * limits.CLEAN_IMAGE_MAX_FACTOR + 1))
    with pytest.raises(examining.TooComplex):
        await rewriter.commit()
    rewriter.writer.abort()


def test_a_phone_photo_with_extra_pictures_is_turned_and_keeps_only_its_first() -> None:
    """Phones store HDR gain maps and depth maps as more pictures in an MPF file."""
    first = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
    first.paste((255, 0, 0), (0, 0, 80, 60))
    out = io.BytesIO()
    first.save(
        out,
        format="MPO",
        save_all=True,
        append_images=[Image.new("RGB", (160, 120), (0, 0, 255))],
        exif=files.phone_exif(6),
    )
    cleaned, width, height = clean.clean(out.getvalue(), sniff.JPEG)
    assert (width, height) == (240, 320)
    assert files.metadata_left(cleaned) == []
    assert cleaned.count(b"\xff\xd8") == 1  # one picture left
    assert _red_corners(cleaned) == _red_corners(out.getvalue(), upright=True)
