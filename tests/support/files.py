"""Real files for the attachment tests, made on the spot: photos with GPS data, PDFs,
office documents, and the hostile ones (executables, pages, SVG with script, image and
zip bombs, EICAR)."""

from __future__ import annotations

import asyncio
import io
import struct
import uuid
import zipfile
import zlib
from typing import Any
from urllib.parse import quote

import httpx
from PIL import Image

from careline.bench import hostile
from tests.support.clamd import EICAR
from tests.support.world import Persona

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_with_gps(width: int = 1600, height: int = 1200, *, orientation: int = 6) -> bytes:
    """A JPEG as phones make them: camera make, orientation and a GPS position."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD))


def pdf_page(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A one-page PDF whose page is a solid colour."""
    out = io.BytesIO()
    Image.new("RGB", (595, 842), color).save(out, format="PDF")
    return out.getvalue()


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Word document (OOXML), with any extra parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Override PartName="/word/document.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"'
            "/></Types>",
        )
        zf.writestr("word/document.xml", "<w:document><w:body>Therapy notes</w:body></w:document>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def zip_bomb_docx(unpacked_mib: int = 300) -> bytes:
    """A Word document with a part that unpacks to hundreds of MiB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        block = b"\0" * (1024 * 1024)
        with zf.open("word/media/image1.bin", "w", force_zip64=True) as member:
            for _ in range(unpacked_mib):
                member.write(block)
    return out.getvalue()


def plain_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))


def png_bomb(side: int = 60000) -> bytes:
    """A complete, valid greyscale PNG of side x side black pixels (3.6 GB decoded at
    60000) in a few MB: one deflate block of 1000 zero rows, flushed so it can repeat."""
    rows_per_block = 1000
    assert side % rows_per_block == 0
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = raw.compress(b"\0" * ((side + 1) * rows_per_block)) + raw.flush(zlib.Z_FULL_FLUSH)
    total = (side + 1) * side
    adler = ((total % 65521) << 16) | 1  # Adler-32 of `total` zero bytes
    stream = b"\x78\xda" + block * (side // rows_per_block) + raw.flush() + struct.pack("!I", adler)
    header = struct.pack("!IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", stream)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_segment_bomb(segments: int = 6_000_000) -> bytes:
    """A small valid JPEG with `segments` empty APP15 segments (4 bytes each, 24 MB for
    6 million) before its frame header: no count cap applies, and Pillow walks them one
    by one for many seconds of CPU."""
    photo = photo_with_gps(64, 48)
    return photo[:2] + b"\xff\xef\x00\x02" * segments + photo[2:]


def png_with_metadata(size: int) -> bytes:
    """A valid 1x1 PNG carrying `size` bytes of text metadata before its pixels."""
    plain = hostile.png_chunk_bomb(0)
    at = plain.index(b"IDAT") - 4
    return plain[:at] + _png_chunk(b"tEXt", b"Comment\0" + b"x" * size) + plain[at:]


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="51,30.2N"/></x:xmpmeta>'


def phone_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    return exif


def _marked(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A picture that shows which way is up: a red block in its top-left corner."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    image.paste((255, 0, 0) if mode == "RGB" else (255, 0, 0, 255), (0, 0, width // 4, height // 4))
    return image


def photo_with_everything(width: int = 1600, height: int = 1200, *, orientation: int = 6) -> bytes:
    """A JPEG with EXIF (GPS, camera, orientation), XMP, a comment, a JFIF thumbnail
    header and a second picture after its end, as phones' MPF files have."""
    out = io.BytesIO()
    _marked(width, height).save(
        out, format="JPEG", exif=phone_exif(orientation), quality=90, comment=b"Taken at home"
    )
    data = out.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\0" + XMP
    segment = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    return data[:2] + segment + data[2:] + b"PhoneMaker second picture"


def png_with_metadata_chunks(width: int = 300, height: int = 200, *, orientation: int = 1) -> bytes:
    """An RGBA PNG with tEXt, iTXt, zTXt and an eXIf chunk (GPS, orientation)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "12 Family Road")
    info.add_itxt("Author", "PhoneMaker owner")
    info.add_text("Comment", "at home", zip=True)
    out = io.BytesIO()
    _marked(width, height, "RGBA").save(
        out, format="PNG", pnginfo=info, exif=phone_exif(orientation)
    )
    return out.getvalue()


def webp_with_metadata(width: int = 400, height: int = 300, *, orientation: int = 6) -> bytes:
    """A lossy WebP with EXIF (GPS, orientation) and XMP chunks."""
    out = io.BytesIO()
    _marked(width, height).save(
        out, format="WEBP", exif=phone_exif(orientation), xmp=XMP, quality=90
    )
    return out.getvalue()


def gif_with_comment() -> bytes:
    """A two-frame looping GIF with a comment and an XMP application extension."""
    frames = [_marked(60, 40).convert("P"), Image.new("P", (60, 40), 3)]
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        loop=0,
        comment=b"PhoneMaker at home",
    )
    data = out.getvalue()
    xmp = b"\x21\xff\x0bXMP DataXMP" + bytes((len(XMP),)) + XMP + b"\0"
    at = data.index(b"\x21\xf9")  # before the first frame's graphic control
    return data[:at] + xmp + data[at:]


def metadata_left(data: bytes) -> list[str]:
    """What of a file still says something about where, who or with what (empty: clean)."""
    left = [
        marker for marker in (b"PhoneMaker", b"Family Road", b"xmpmeta", b"home") if marker in data
    ]
    found = [m.decode() for m in left]
    with Image.open(io.BytesIO(data)) as image:
        if len(image.getexif()):
            found.append("exif")
        found += [
            key for key in ("exif", "xmp", "comment", "XML:com.adobe.xmp") if key in image.info
        ]
        found += [key for key in ("Location", "Author", "Comment") if key in image.info]
    return found


def windows_exe() -> bytes:
    """The start of a Windows program: an MZ header and its DOS stub."""
    stub = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    return stub + b"This program cannot be run in DOS mode.\r\r\n$" + b"\0" * 4000


HTML_PAGE = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>"
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)
EICAR_FILE = EICAR


async def upload(
    http: httpx.AsyncClient,
    who: Persona,
    conversation_id: str,
    name: str,
    data: bytes,
) -> httpx.Response:
    return await http.post(
        f"/api/v1/conversations/{conversation_id}/attachments",
        content=data,
        headers={
            **who.auth,
            "X-File-Name": quote(name),
            "Content-Type": "application/octet-stream",
        },
        timeout=60,
    )


async def wait_state(
    http: httpx.AsyncClient, who: Persona, attachment_id: str, *, timeout: float = 30
) -> dict[str, Any]:
    """Poll as the uploader until the scan has decided (available or quarantined)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await http.get(f"/api/v1/attachments/{attachment_id}", headers=who.auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["state"] != "pending":
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still pending after {timeout}s: {body}")
        await asyncio.sleep(0.1)


async def send_with(
    http: httpx.AsyncClient,
    who: Persona,
    conversation_id: str,
    attachment_ids: list[str],
    text: str = "",
) -> httpx.Response:
    return await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text, "attachment_ids": attachment_ids},
        headers=who.auth,
    )
