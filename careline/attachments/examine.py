"""Checks one upload's structure in a child process: `python -m careline.attachments.examine`.

The server process reads only an upload's first bytes (sniff.py); everything that walks
a file's structure runs here, under limits set before the file's first byte is read
(FILE_CHECK_MEMORY_BYTES of address space beyond the file itself, which it holds in
memory; FILE_CHECK_CPU_SECONDS of CPU; no file writes) and the parent's wall time. See
examining.py for the parent side.

stdin:  one JSON line {"media_type": "<what sniff found>", "size": <bytes>}, then the
        file's bytes.
stdout: one JSON line, exit status 0:
        {"media_type": "...", "width": int | null, "height": int | null}  accepted, or
        {"refused": {"code": "...", "detail": "..."}}                     with a reason;
        for an accepted image, the line also has "size": <bytes>, and those bytes
        follow it: the image without its metadata and turned upright (clean.py), which
        is what careline stores and serves as the original.
Anything else (a crash, a limit hit) is the parent's to refuse.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from careline.attachments import clean, rlimits, sniff, structure
from careline.attachments.records import Kind
from careline.kit import limits
from careline.kit.errors import AppError

_DAMAGED = "the file is damaged or not what its first bytes say"
_TYPES = {t.media_type: t for t in (*sniff.ALLOWED, sniff.ZIP)}


def examine(media_type: str, data: bytes) -> tuple[dict[str, Any], bytes]:
    """The verdict, and for an accepted image its clean bytes (else b"")."""
    found = _TYPES[media_type]
    fileobj = io.BytesIO(data)
    try:
        if found == sniff.ZIP:
            return {"media_type": structure.check_archive(fileobj, len(data)).media_type}, b""
        if found.kind is Kind.IMAGE:
            structure.check_image(fileobj, found)
            cleaned, width, height = clean.clean(data, found)
            answer = {"media_type": found.media_type, "width": width, "height": height}
            return {**answer, "size": len(cleaned)}, cleaned
    except AppError as refusal:
        return {"refused": {"code": refusal.code, "detail": refusal.detail}}, b""
    except MemoryError:
        raise  # over FILE_CHECK_MEMORY_BYTES: the parent refuses it as too complex
    except Exception:  # a parser tripping over malformed bytes: the file is not valid
        return {"refused": {"code": "file_corrupt", "detail": _DAMAGED}}, b""
    return {"media_type": found.media_type}, b""


def main() -> int:
    header = json.loads(sys.stdin.buffer.readline(4096))
    size = int(header["size"])
    rlimits.limit_self(
        memory_bytes=limits.FILE_CHECK_MEMORY_BYTES + size,
        cpu_seconds=limits.FILE_CHECK_CPU_SECONDS,
    )
    data = sys.stdin.buffer.read(size + 1)
    if len(data) != size:
        return 4  # not the bytes announced: the parent refuses
    answer, cleaned = examine(str(header["media_type"]), data)
    del data
    sys.stdout.buffer.write(json.dumps(answer).encode() + b"\n")
    sys.stdout.buffer.write(cleaned)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
