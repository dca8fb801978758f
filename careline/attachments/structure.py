"""The checks that walk a file's structure: office documents (zip archives) and image
headers. Only the checking child (examine.py) runs them, under its memory, CPU and wall
limits: their cost is set by whoever made the file, so the server process never does.

Each walk is bounded before any library sees the file: a zip's central directory is
counted entry by entry up to ARCHIVE_MAX_MEMBERS (zipfile would build an object for
every entry, however many), and a PNG's chunks before its image data are counted up to
PNG_MAX_CHUNKS_BEFORE_IMAGE and PNG_MAX_HEADER_BYTES (Pillow walks them one by one).
Refusals are sniff's AppErrors; examine.py passes their code and text to the server.
"""

from __future__ import annotations

import struct
import zipfile
from typing import IO

from careline.attachments.records import FileType
from careline.attachments.sniff import (
    DOCX,
    GIF,
    JPEG,
    ODP,
    ODS,
    ODT,
    PNG,
    PPTX,
    WEBP,
    XLSX,
    Corrupt,
    Refused,
    Unsafe,
)
from careline.kit import limits

# --- office documents -----------------------------------------------------------------

_END = b"PK\x05\x06"
_END_SIZE = 22
_END64_LOCATOR = b"PK\x06\x07"
_END64_LOCATOR_SIZE = 20
_END64 = b"PK\x06\x06"
_END64_SIZE = 56
_ENTRY = b"PK\x01\x02"
_ENTRY_SIZE = 46


def _damaged() -> Corrupt:
    return Corrupt("the document is damaged or not a valid office file")


def _directory(fileobj: IO[bytes]) -> tuple[int, int, int]:
    """(declared entries, directory offset, directory size) from the end records, found
    the way zipfile finds them: the last end record within the comment's reach, and
    the zip64 one before it when there is one."""
    size = fileobj.seek(0, 2)
    reach = min(size, _END_SIZE + 0xFFFF)
    fileobj.seek(size - reach)
    tail = fileobj.read(reach)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < _END_SIZE:
        raise _damaged()
    end_at = size - reach + at
    _, _, _, _, count, cd_size, _, _ = struct.unpack("<4s4H2IH", tail[at : at + _END_SIZE])
    locator_at = end_at - _END64_LOCATOR_SIZE
    if locator_at >= _END64_SIZE:
        fileobj.seek(locator_at)
        if fileobj.read(4) == _END64_LOCATOR:
            end64_at = locator_at - _END64_SIZE
            fileobj.seek(end64_at)
            record = fileobj.read(_END64_SIZE)
            if len(record) < _END64_SIZE or record[:4] != _END64:
                raise _damaged()
            count, cd_size = struct.unpack("<2Q", record[32:48])
            return count, end64_at - cd_size, cd_size
    return count, end_at - cd_size, cd_size


def check_members(fileobj: IO[bytes]) -> None:
    """At most ARCHIVE_MAX_MEMBERS entries in the central directory, counted one by one
    (the count the end record declares can lie; zipfile ignores it and walks the
    directory's bytes), before zipfile is let near it."""
    declared, start, cd_size = _directory(fileobj)
    if declared > limits.ARCHIVE_MAX_MEMBERS:
        raise _bomb(f"it holds more than {limits.ARCHIVE_MAX_MEMBERS} parts")
    if start < 0:
        raise _damaged()
    fileobj.seek(start)
    directory = fileobj.read(cd_size)
    if len(directory) != cd_size:
        raise _damaged()
    offset, entries = 0, 0
    while offset < cd_size:
        entries += 1
        if entries > limits.ARCHIVE_MAX_MEMBERS:
            raise _bomb(f"it holds more than {limits.ARCHIVE_MAX_MEMBERS} parts")
        if directory[offset : offset + 4] != _ENTRY or offset + _ENTRY_SIZE > cd_size:
            raise _damaged()
        name, extra, comment = struct.unpack_from("<3H", directory, offset + 28)
        offset += _ENTRY_SIZE + name + extra + comment


_OOXML_MAIN = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
_ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": ODS,
    b"application/vnd.oasis.opendocument.presentation": ODP,
}
_SMALL_PART = 1024 * 1024  # [Content_Types].xml and mimetype are tiny
_RATIO_FLOOR = 16 * 1024 * 1024  # below this much unpacked, any ratio is fine


def _archive_type(zf: zipfile.ZipFile, names: set[str]) -> FileType:
    def small(name: str) -> bytes:
        info = zf.getinfo(name)
        if info.file_size > _SMALL_PART:
            raise Corrupt("the document's structure is not valid")
        return zf.read(info)

    if "[Content_Types].xml" in names:
        types = small("[Content_Types].xml").lower()
        if b"macroenabled" in types or any(n.lower().endswith("vbaproject.bin") for n in names):
            raise Unsafe(
                "documents with macros can't be attached: save it without macros (.docx, "
                ".xlsx, .pptx)",
                code="macros_refused",
            )
        for part, file_type in _OOXML_MAIN.items():
            if part in names:
                return file_type
    elif "mimetype" in names:
        found = _ODF_TYPES.get(small("mimetype").strip())
        if found is not None:
            if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                raise Unsafe("documents with macros can't be attached", code="macros_refused")
            return found
    raise Refused("zip archives can't be attached: attach the files themselves")


def check_archive(fileobj: IO[bytes], packed_size: int) -> FileType:
    """An office document (a zip) checked for what it is and against zip bombs: the
    members, their unpacked total and the ratio are bounded by what the directory
    claims, and every member is then unpacked (and its CRC checked) so a directory that
    lies is caught too."""
    check_members(fileobj)
    try:
        with zipfile.ZipFile(fileobj) as zf:
            infos = zf.infolist()
            if len(infos) > limits.ARCHIVE_MAX_MEMBERS:
                raise _bomb(f"it holds more than {limits.ARCHIVE_MAX_MEMBERS} parts")
            if any(info.flag_bits & 0x1 for info in infos):
                raise Unsafe(
                    "password-protected documents can't be virus-scanned: remove the "
                    "password and attach it again",
                    code="encrypted_refused",
                )
            total = sum(info.file_size for info in infos)
            _check_unpacked(total, packed_size)
            file_type = _archive_type(zf, {info.filename for info in infos})
            unpacked = 0
            for info in infos:
                with zf.open(info) as member:
                    while block := member.read(64 * 1024):
                        unpacked += len(block)
                        _check_unpacked(unpacked, packed_size)
            return file_type
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError):
        raise Corrupt("the document is damaged or not a valid office file") from None


def _check_unpacked(total: int, packed_size: int) -> None:
    if total > limits.ARCHIVE_MAX_UNPACKED_BYTES:
        raise _bomb(f"it unpacks to more than {limits.ARCHIVE_MAX_UNPACKED_BYTES >> 20} MiB")
    if total > _RATIO_FLOOR and total > limits.ARCHIVE_MAX_RATIO * max(packed_size, 1):
        raise _bomb(f"it unpacks to over {limits.ARCHIVE_MAX_RATIO} times its size")


def _bomb(why: str) -> Unsafe:
    return Unsafe(f"the document looks like a zip bomb: {why}", code="archive_bomb")


# --- images ---------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IMAGE_DATA = (b"IDAT", b"IEND")


def check_png_chunks(fileobj: IO[bytes]) -> None:
    """A PNG's chunks before its image data, counted up to PNG_MAX_CHUNKS_BEFORE_IMAGE and
    PNG_MAX_HEADER_BYTES: millions of empty chunks are a valid PNG that takes any
    decoder seconds of CPU to get through."""
    fileobj.seek(0)
    if fileobj.read(8) != _PNG_SIGNATURE:
        raise Corrupt("the image is damaged or not what its first bytes say")
    chunks, total = 0, 8
    while True:
        head = fileobj.read(8)
        if len(head) < 8:
            raise Corrupt("the image is damaged: it ends before its pixels")
        length, kind = struct.unpack(">I4s", head)
        if kind in _PNG_IMAGE_DATA:
            return
        chunks += 1
        total += 12 + length
        if chunks > limits.PNG_MAX_CHUNKS_BEFORE_IMAGE or total > limits.PNG_MAX_HEADER_BYTES:
            raise Unsafe(
                f"the image carries over {limits.PNG_MAX_CHUNKS_BEFORE_IMAGE} parts or "
                f"{limits.PNG_MAX_HEADER_BYTES >> 20} MiB before its pixels: save it again "
                "from an image editor",
                code="image_bomb",
            )
        fileobj.seek(length + 4, 1)  # the data and its CRC


def check_image(fileobj: IO[bytes], found: FileType) -> tuple[int, int]:
    """An image's size from its header alone (nothing is decoded here), refused above
    the pixel limits: a 60000x60000 image of one colour compresses to almost nothing
    and would take gigabytes to decode."""
    from PIL import Image, UnidentifiedImageError

    if found == PNG:
        check_png_chunks(fileobj)
        fileobj.seek(0)
    # Pillow's own bomb check warns or raises at its limits, not ours; this only ever
    # reads headers, and our limit is checked right below, before any decoding.
    Image.MAX_IMAGE_PIXELS = None
    formats = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}
    try:
        with Image.open(fileobj, formats=[formats[found]]) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Corrupt("the image is damaged or not what its first bytes say") from None
    if width < 1 or height < 1:
        raise Corrupt("the image has no pixels")
    if width * height > limits.IMAGE_MAX_PIXELS or max(width, height) > limits.IMAGE_MAX_SIDE:
        raise Unsafe(
            f"the image is {width}x{height} pixels; the limit is "
            f"{limits.IMAGE_MAX_PIXELS // 1_000_000} megapixels and "
            f"{limits.IMAGE_MAX_SIDE} pixels a side",
            code="image_too_large",
        )
    return width, height
