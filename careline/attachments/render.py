"""Makes previews of one file in a child process: `python -m careline.attachments.render`.

Decoding untrusted images and PDFs is where decompression bombs and parser bugs bite, so
it happens here, never in the server: the child caps its own memory, CPU time and file
writes before reading a byte, gets the (already virus-scanned) plaintext on stdin and
writes the previews to stdout. If it crashes or runs out of time, the server loses
nothing but the previews.

stdin:  one JSON line {"kind": "image" | "pdf"}, then the file's bytes.
stdout: one JSON line {"variants": [{"name", "media_type", "width", "height", "size"}]},
        then each variant's bytes, in that order. Exit status 0, or 3 when the file
        cannot be rendered (anything else: it crashed or hit a limit).

Every preview is re-encoded from pixels into a new image, so no metadata (EXIF, GPS,
XMP, comments) of the original survives.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from careline.attachments import rlimits
from careline.kit import limits

MEMORY_BYTES = 2 * 1024 * 1024 * 1024
JPEG_QUALITY = 85


def _fresh(image: Any) -> Any:
    """A new image holding only the pixels: whatever metadata the decoder kept is gone."""
    from PIL import Image

    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    converted = image.convert("RGBA" if has_alpha else "RGB")
    return Image.frombytes(converted.mode, converted.size, converted.tobytes())


def _encode(image: Any, max_side: int) -> tuple[bytes, str, int, int]:
    copy = image.copy()
    copy.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if copy.mode == "RGBA":
        copy.save(out, format="PNG", optimize=True)
        media_type = "image/png"
    else:
        copy.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        media_type = "image/jpeg"
    return out.getvalue(), media_type, copy.width, copy.height


def _image(data: bytes) -> Any:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = limits.IMAGE_MAX_PIXELS  # Pillow's own bomb check, as a backstop
    image = Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "GIF", "WEBP"])
    width, height = image.size
    if width * height > limits.IMAGE_MAX_PIXELS or max(width, height) > limits.IMAGE_MAX_SIDE:
        raise ValueError("image over the pixel limit")
    if image.format == "JPEG":
        # Decode big photos at a reduced scale straight from the DCT: fast and small.
        image.draft("RGB", (limits.PREVIEW_MAX_SIDE, limits.PREVIEW_MAX_SIDE))
    image.seek(0)  # an animation previews as its first frame
    upright = ImageOps.exif_transpose(image)
    return _fresh(upright if upright is not None else image)


def _pdf_page(data: bytes) -> Any:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        if len(pdf) == 0:
            raise ValueError("no pages")
        page = pdf[0]
        width, height = page.get_size()
        scale = min(limits.PREVIEW_MAX_SIDE / max(width, height, 1.0), 4.0)
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
        return _fresh(bitmap.to_pil())
    finally:
        pdf.close()


def render(kind: str, data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    source = _image(data) if kind == "image" else _pdf_page(data)
    out = []
    for name, side in (("thumb", limits.THUMBNAIL_MAX_SIDE), ("preview", limits.PREVIEW_MAX_SIDE)):
        blob, media_type, width, height = _encode(source, side)
        meta = {"name": name, "media_type": media_type, "width": width, "height": height}
        out.append(({**meta, "size": len(blob)}, blob))
    return out


def main() -> int:
    header = json.loads(sys.stdin.buffer.readline(4096))
    rlimits.limit_self(memory_bytes=MEMORY_BYTES, cpu_seconds=int(header.get("cpu_seconds", 30)))
    data = sys.stdin.buffer.read()
    try:
        variants = render(str(header["kind"]), data)
    except Exception:
        return 3  # the parent logs that previews failed, by id; never any content
    sys.stdout.buffer.write(json.dumps({"variants": [m for m, _ in variants]}).encode() + b"\n")
    for _, blob in variants:
        sys.stdout.buffer.write(blob)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
