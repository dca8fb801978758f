"""The hostile files of issue 16, made on the spot for `careline bench abuse` (the bench
ships with careline; the test suite's own builders in tests/support/files.py are not
part of it)."""

from __future__ import annotations

import struct
import zlib


def zip_directory_bomb(entries: int = 490_000, *, declared: int = 2) -> bytes:
    """A "Word document" whose central directory lists `entries` parts (53 bytes each,
    26 MB for 490,000), all pointing at one empty stored member, its end record claiming
    `declared` entries: whatever trusts the count, or walks the directory, is caught."""
    name = b"w/0.xml"
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
    central = struct.pack(
        "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
    )
    directory = (central + name) * entries
    end = struct.pack(
        "<4s4H2IH", b"PK\x05\x06", 0, 0, declared, declared, len(directory), len(local) + 7, 0
    )
    return local + name + directory + end


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))


def png_chunk_bomb(chunks: int = 2_000_000) -> bytes:
    """A valid 1x1 PNG with `chunks` empty private chunks (12 bytes each, 24 MB for
    2 million) before its image data: every decoder walks them one by one."""
    header = struct.pack("!IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"prVt", b"") * chunks
        + _png_chunk(b"IDAT", zlib.compress(b"\0\0"))
        + _png_chunk(b"IEND", b"")
    )


def plain_text(size: int) -> bytes:
    """An ordinary text file of `size` bytes: accepted, stored, counted in the quota."""
    line = b"Session notes: attended, engaged, next visit on Thursday.\n"
    return (line * (size // len(line) + 1))[:size]
