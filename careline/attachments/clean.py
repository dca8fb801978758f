"""An image's metadata taken out, in the checking child (examine.py): what careline
stores and serves as the "original" carries only its pixels and what is needed to show
them right.

A phone photo tells where it was taken (EXIF GPS), with what (camera, serial numbers),
when, and often holds a thumbnail of the picture before it was cropped; PNGs carry text
chunks, WebP files EXIF and XMP chunks, GIFs comments. All of it goes:

- JPEG: every APPn segment but a JFIF header (without its thumbnail), an ICC colour
  profile (APP2 `ICC_PROFILE`) and Adobe's colour transform (APP14, needed to decode
  CMYK), and every comment; anything after the end of the image (the extra pictures of
  an MPF file) too. Entropy-coded data is copied as it is: no quality lost.
- PNG: only the chunks that describe pixels stay (IHDR, PLTE, IDAT, IEND, tRNS, colour
  space, pHYs, sBIT, bKGD, hIST, sPLT and the APNG animation chunks); tEXt, zTXt, iTXt,
  eXIf, tIME and private chunks go.
- WebP: the EXIF and XMP chunks go (and their flags in VP8X), and any unknown chunk.
- GIF: comments and application extensions other than the animation loop
  (NETSCAPE2.0 / ANIMEXTS1.0) go.

A photo whose EXIF orientation says it is turned (2-8) is turned for real: its pixels
are decoded, transposed and encoded again (JPEG with the original's quantisation
tables, so it looks the same; PNG and lossless WebP stay lossless), and the result goes
through the same filters. An animation is never re-encoded.

Every filter takes the whole file, already checked by structure.check_image, and returns
the clean file as pieces (memoryviews of the input where it is copied). Malformed
structure raises Corrupt.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from careline.attachments.records import FileType
from careline.attachments.sniff import GIF, JPEG, PNG, WEBP, Corrupt

Pieces = list[bytes | memoryview]

_DAMAGED = "the image is damaged or not what its first bytes say"
ORIENTATION = 0x0112
JPEG_REENCODE_QUALITY = 92  # when the original's quantisation tables cannot be reused
WEBP_REENCODE_QUALITY = 90


def clean(data: bytes, found: FileType) -> tuple[bytes, int, int]:
    """The image without its metadata, upright, and its pixel size."""
    turned = _upright(data, found)
    cleaned = b"".join(_FILTERS[found.media_type](data if turned is None else turned))
    width, height = _size(cleaned, found)
    return cleaned, width, height


# --- orientation ----------------------------------------------------------------------


def _orientation(image: Any) -> int:
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # a damaged EXIF block: nothing to apply, and it is removed anyway
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright(data: bytes, found: FileType) -> bytes | None:
    """The image turned as its EXIF orientation says, encoded again; None when it is
    upright already (orientation 1 or none), a GIF, or an animation."""
    from PIL import Image, ImageOps, JpegImagePlugin

    if found == GIF:
        return None
    Image.MAX_IMAGE_PIXELS = None  # the pixel limits were checked from the header
    with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[found.media_type]]) as image:
        # A JPEG's "frames" are an MPF file's extra pictures (an HDR gain map, a depth
        # map), not an animation: its first picture is turned and the rest left behind.
        animated = found != JPEG and getattr(image, "n_frames", 1) > 1
        if _orientation(image) == 1 or animated:
            return None
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        options: dict[str, Any] = {"icc_profile": icc} if icc else {}
        if found == JPEG:
            sampling = JpegImagePlugin.get_sampling(image)
            tables = getattr(image, "quantization", None)
            if tables and sampling >= 0:
                options.update(qtables=tables, subsampling=sampling)
            else:
                options.update(quality=JPEG_REENCODE_QUALITY)
            upright.save(out, format="JPEG", **options)
        elif found == PNG:
            if "transparency" in image.info:
                options["transparency"] = image.info["transparency"]
            upright.save(out, format="PNG", **options)
        else:
            lossless = b"VP8L" in data[12:64]
            quality = 100 if lossless else WEBP_REENCODE_QUALITY
            upright.save(out, format="WEBP", lossless=lossless, quality=quality, **options)
    return out.getvalue()


_PIL_FORMATS = {JPEG.media_type: "JPEG", PNG.media_type: "PNG", WEBP.media_type: "WEBP"}


def _size(cleaned: bytes, found: FileType) -> tuple[int, int]:
    """The clean file's pixel size, read back from its header: it must still open."""
    from PIL import Image, UnidentifiedImageError

    formats = [_PIL_FORMATS.get(found.media_type, "GIF")]
    try:
        with Image.open(io.BytesIO(cleaned), formats=formats) as image:
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Corrupt(_DAMAGED) from None


# --- JPEG -----------------------------------------------------------------------------

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP0, _APP2, _APP14, _COM = 0xE0, 0xE2, 0xEE, 0xFE
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length


def _keep_jpeg_segment(marker: int, payload: memoryview) -> bytes | memoryview | None:
    """What of one segment stays: None to drop it."""
    if marker == _APP0:
        if bytes(payload[:5]) != b"JFIF\0" or len(payload) < 14:
            return None  # JFXX (a thumbnail) and anything else in APP0
        # The JFIF header without its thumbnail (width and height set to 0).
        return bytes(payload[:12]) + b"\0\0"
    if marker == _APP2:
        return payload if bytes(payload[:12]) == b"ICC_PROFILE\0" else None
    if marker == _APP14:
        return payload if bytes(payload[:5]) == b"Adobe" else None
    if 0xE0 <= marker <= 0xEF or marker == _COM:
        return None  # EXIF, XMP, IPTC (Photoshop), MPF, maker notes, comments
    return payload


def clean_jpeg(raw: bytes) -> Pieces:
    if raw[:2] != b"\xff\xd8":
        raise Corrupt(_DAMAGED)
    data = memoryview(raw)
    out: Pieces = [b"\xff\xd8"]
    pos, end = 2, len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise Corrupt(_DAMAGED)
        while pos < end and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            break  # what follows the image (MPF's other pictures, trailers) goes
        if marker in _STANDALONE:
            out.append(bytes((0xFF, marker)))
            continue
        if marker == _SOI or pos + 2 > end:
            raise Corrupt(_DAMAGED)
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > end:
            raise Corrupt(_DAMAGED)
        kept = _keep_jpeg_segment(marker, data[pos + 2 : pos + length])
        if kept is not None:
            out.append(bytes((0xFF, marker)) + struct.pack(">H", len(kept) + 2))
            out.append(kept)
        pos += length
        if marker == _SOS:
            scan_start, pos = pos, _entropy_end(raw, pos, end)
            out.append(data[scan_start:pos])
    out.append(b"\xff\xd9")
    return out


def _entropy_end(raw: bytes, pos: int, end: int) -> int:
    """Where the entropy-coded data after a scan header ends: at the first marker that is
    not a stuffed 0xFF00 or a restart marker (or the end of a truncated file)."""
    while True:
        i = raw.find(b"\xff", pos, end)
        if i < 0 or i + 1 >= end:
            return end
        following = raw[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos = i + 2
            continue
        return i  # a marker (or fill bytes before one: the marker loop skips them)


# --- PNG ------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEPT = frozenset(
    {
        *(b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT"),
        *(b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"hIST", b"pHYs", b"sPLT"),
        *(b"acTL", b"fcTL", b"fdAT"),  # APNG
    }
)


def clean_png(raw: bytes) -> Pieces:
    if raw[:8] != _PNG_SIGNATURE:
        raise Corrupt(_DAMAGED)
    data = memoryview(raw)
    out: Pieces = [_PNG_SIGNATURE]
    pos, end = 8, len(raw)
    while True:
        if pos + 12 > end:
            raise Corrupt(_DAMAGED)
        (length,) = struct.unpack_from(">I", raw, pos)
        kind = raw[pos + 4 : pos + 8]
        stop = pos + 12 + length
        if stop > end:
            raise Corrupt(_DAMAGED)
        if kind in _PNG_KEPT:
            out.append(data[pos:stop])
        pos = stop
        if kind == b"IEND":
            return out  # anything after the end goes


# --- WebP -----------------------------------------------------------------------------

_WEBP_KEPT = frozenset((b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"))
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def clean_webp(raw: bytes) -> Pieces:
    if raw[:4] != b"RIFF" or raw[8:12] != b"WEBP":
        raise Corrupt(_DAMAGED)
    data = memoryview(raw)
    (riff_size,) = struct.unpack_from("<I", raw, 4)
    pos, end = 12, min(len(raw), 8 + riff_size)
    body: Pieces = []
    while pos + 8 <= end:
        kind = raw[pos : pos + 4]
        (length,) = struct.unpack_from("<I", raw, pos + 4)
        stop = pos + 8 + length + (length & 1)
        if pos + 8 + length > end:
            raise Corrupt(_DAMAGED)
        if kind == b"VP8X" and length >= 10:
            flags = raw[pos + 8] & ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF
            body.append(bytes(data[pos : pos + 8]) + bytes((flags,)) + bytes(data[pos + 9 : stop]))
        elif kind in _WEBP_KEPT:
            body.append(data[pos : min(stop, end)])
        pos = stop
    size = 4 + sum(len(piece) for piece in body)
    return [b"RIFF", struct.pack("<I", size), b"WEBP", *body]


# --- GIF ------------------------------------------------------------------------------

_GIF_LOOPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _sub_blocks_end(raw: bytes, pos: int) -> int:
    """Past the sub-blocks starting at pos (each a length byte and its data, then 0)."""
    end = len(raw)
    while True:
        if pos >= end:
            raise Corrupt(_DAMAGED)
        length = raw[pos]
        pos += 1 + length
        if length == 0:
            return pos


def _colour_table(flags: int) -> int:
    return 3 * (2 << (flags & 0x07)) if flags & 0x80 else 0


def clean_gif(raw: bytes) -> Pieces:
    if raw[:6] not in (b"GIF87a", b"GIF89a") or len(raw) < 13:
        raise Corrupt(_DAMAGED)
    data = memoryview(raw)
    pos = 13 + _colour_table(raw[10])
    out: Pieces = [data[:pos]]
    while True:
        if pos >= len(raw):
            raise Corrupt(_DAMAGED)
        block = raw[pos]
        if block == 0x3B:  # trailer: anything after it goes
            out.append(b"\x3b")
            return out
        if block == 0x2C:  # an image: descriptor, local colour table, LZW data
            stop = _sub_blocks_end(raw, pos + 11 + _colour_table(raw[pos + 9]))
            out.append(data[pos:stop])
        elif block == 0x21 and pos + 1 < len(raw):
            label = raw[pos + 1]
            stop = _sub_blocks_end(raw, pos + 2)
            keep = label in (0xF9, 0x01)  # graphic control, plain text: how frames show
            if label == 0xFF:  # application: only the loop count stays
                keep = raw[pos + 2] == 11 and raw[pos + 3 : pos + 14] in _GIF_LOOPS
            if keep:
                out.append(data[pos:stop])
        else:
            raise Corrupt(_DAMAGED)
        pos = stop


_FILTERS = {
    JPEG.media_type: clean_jpeg,
    PNG.media_type: clean_png,
    WEBP.media_type: clean_webp,
    GIF.media_type: clean_gif,
}
