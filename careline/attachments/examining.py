"""An upload's structure checked in the limited child (examine.py), during the upload
request, so the uploader still gets a refusal's 415/422 in the upload's own answer.

The server process only streams the bytes to the child and reads a one-line verdict.
At most CARELINE_FILE_CHECKS_CONCURRENCY children run at once on a node, so parallel
uploads cannot start a heavy process each; an upload waits for a free one at most
CARELINE_FILE_CHECK_TIMEOUT_SECONDS (then 503 `checks_busy`, with Retry-After), and a
child gets as long again before it is killed (then 422 `file_too_complex`). Only
office documents (zip) and images need a child; other types are done with their first
bytes.

An image comes back cleaned: the child writes it, without its metadata and turned
upright (clean.py), after its verdict, and the caller's sink stores it (service.py)
in place of what was uploaded.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from careline import config
from careline.attachments import child, sniff
from careline.attachments.records import FileType, Kind
from careline.kit import limits
from careline.kit.errors import AppError

_MODULE = "careline.attachments.examine"
_OUTPUT_MAX = 16 * 1024  # one JSON line
_DETAIL_MAX = 300

# What the child may answer, and as which error: anything else is not believed.
_REFUSALS: dict[str, type[AppError]] = {
    "file_type_refused": sniff.Refused,
    "file_corrupt": sniff.Corrupt,
    "archive_bomb": sniff.Unsafe,
    "macros_refused": sniff.Unsafe,
    "encrypted_refused": sniff.Unsafe,
    "image_too_large": sniff.Unsafe,
    "image_bomb": sniff.Unsafe,
}
_OFFICE = frozenset({sniff.DOCX, sniff.XLSX, sniff.PPTX, sniff.ODT, sniff.ODS, sniff.ODP})


class TooComplex(AppError):
    """The check ran out of its CPU, memory or wall time, or crashed: refused, since a
    file careline cannot check is a file it does not pass on."""

    status, code, title = 422, "file_too_complex", "File too complex to check"


class ChecksBusy(AppError):
    status, code, title = 503, "checks_busy", "Too many uploads being checked"


class Sink(child.Tail, Protocol):
    """Where a cleaned image goes, and how many of its bytes it took."""

    @property
    def received(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Examined:
    file_type: FileType
    width: int | None = None
    height: int | None = None


def needs_child(found: FileType) -> bool:
    return found == sniff.ZIP or found.kind is Kind.IMAGE


_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _semaphore() -> asyncio.Semaphore:
    """The node's checker slots (one semaphore per event loop: a test run may start
    several loops, and a semaphore belongs to one)."""
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots.clear()  # an old loop's is of no use any more
        _slots[loop] = asyncio.Semaphore(config.current().file_checks_concurrency)
    return _slots[loop]


async def examine(
    found: FileType, body: AsyncIterator[bytes], *, size: int, sink: Sink | None = None
) -> Examined:
    """The child's verdict on a zip or an image: its real type and pixel size (an
    image's once upright, its clean bytes given to `sink`, which images need), or the
    refusal it found (sniff's errors), TooComplex, or ChecksBusy."""
    if found.kind is Kind.IMAGE and sink is None:
        raise ValueError("an image needs a sink for its clean bytes")
    wall = config.current().file_check_timeout_seconds
    slots = _semaphore()
    try:
        async with asyncio.timeout(wall):
            await slots.acquire()
    except TimeoutError:
        raise ChecksBusy(
            "careline is checking many uploads right now: try again in a moment",
            headers={"Retry-After": str(math.ceil(wall))},
        ) from None
    try:
        finished = await child.run(
            _MODULE,
            {"media_type": found.media_type, "size": size},
            body,
            wall_seconds=wall,
            output_max=_OUTPUT_MAX,
            tail=sink,
        )
    except child.ChildTimeout:
        raise _too_complex() from None
    finally:
        slots.release()
    if finished.code != 0 or len(finished.output) > _OUTPUT_MAX:
        raise _too_complex()
    return _verdict(found, finished.output, sink)


def _too_complex() -> TooComplex:
    return TooComplex(
        f"the file could not be checked within careline's limits "
        f"({limits.FILE_CHECK_CPU_SECONDS} s of CPU, "
        f"{limits.FILE_CHECK_MEMORY_BYTES >> 20} MiB beyond the file): save it again, "
        "simpler or smaller"
    )


def _verdict(found: FileType, output: bytes, sink: Sink | None) -> Examined:
    """The child's answer, believed only as far as it makes sense for what was sent:
    an image's clean bytes must be as many as it says, and at least one."""
    try:
        answer = json.loads(output)
        refused = answer.get("refused")
        if refused is not None:
            error = _REFUSALS[str(refused["code"])]
            raise error(str(refused["detail"])[:_DETAIL_MAX], code=str(refused["code"]))
        checked = next(t for t in sniff.ALLOWED if t.media_type == answer["media_type"])
        width, height, cleaned = answer.get("width"), answer.get("height"), answer.get("size")
    except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
        raise _too_complex() from None
    if found == sniff.ZIP:
        if checked not in _OFFICE:
            raise _too_complex()
        return Examined(checked)
    if checked != found or not _pixels(width) or not _pixels(height):
        raise _too_complex()
    if sink is None or not isinstance(cleaned, int) or not 1 <= cleaned == sink.received:
        raise _too_complex()
    return Examined(checked, width, height)


def _pixels(value: object) -> bool:
    return isinstance(value, int) and 1 <= value <= limits.IMAGE_MAX_SIDE
