"""Runs careline/attachments/render.py in a child process and collects its previews."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
from collections.abc import AsyncIterator

from careline.attachments.records import Kind, Variant, VariantName

_OUTPUT_MAX = 64 * 1024 * 1024  # two previews of at most PREVIEW_MAX_SIDE pixels a side


class PreviewFailed(Exception):
    """No previews for this file; the reason is a short code, never content."""


def wants_previews(kind: Kind) -> bool:
    return kind in (Kind.IMAGE, Kind.PDF)


async def _feed(
    proc: asyncio.subprocess.Process, kind: Kind, limit_seconds: float, body: AsyncIterator[bytes]
) -> None:
    assert proc.stdin is not None
    header = {"kind": kind.value, "cpu_seconds": math.ceil(limit_seconds)}
    try:
        proc.stdin.write(json.dumps(header).encode() + b"\n")
        async for chunk in body:
            proc.stdin.write(chunk)
            await proc.stdin.drain()
        proc.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the child gave up early; its exit status says so


async def _read_all(stream: asyncio.StreamReader, limit: int) -> bytes:
    """Everything until EOF, or a little over `limit` bytes (then the output is refused)."""
    out = bytearray()
    while len(out) < limit and (block := await stream.read(64 * 1024)):
        out += block
    return bytes(out)


async def make_previews(
    kind: Kind, body: AsyncIterator[bytes], *, limit_seconds: float
) -> list[tuple[Variant, bytes]]:
    """Thumbnail and preview of an image or a PDF's first page, as (variant, bytes)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",  # isolated: no user site, no PYTHON* environment, no cwd on the path
        "-m",
        "careline.attachments.render",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(limit_seconds):
            assert proc.stdout is not None
            _, output = await asyncio.gather(
                _feed(proc, kind, limit_seconds, body), _read_all(proc.stdout, _OUTPUT_MAX + 1)
            )
            code = await proc.wait()
    except TimeoutError:
        raise PreviewFailed("preview_timeout") from None
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    if code != 0 or len(output) > _OUTPUT_MAX:
        raise PreviewFailed(f"render_failed:{code}")
    return _parse(output)


def _parse(output: bytes) -> list[tuple[Variant, bytes]]:
    header, _, rest = output.partition(b"\n")
    try:
        described = json.loads(header)["variants"]
        result = []
        offset = 0
        for item in described:
            size = int(item["size"])
            blob = rest[offset : offset + size]
            offset += size
            if len(blob) != size or not size:
                raise ValueError("short output")
            variant = Variant(
                name=VariantName(item["name"]),
                media_type=str(item["media_type"]),
                size=size,
                width=int(item["width"]),
                height=int(item["height"]),
            )
            result.append((variant, blob))
    except (ValueError, KeyError, TypeError):
        raise PreviewFailed("render_output") from None
    return result
