"""Runs careline/attachments/render.py in a limited child process (child.py) and collects
its previews."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator

from careline.attachments import child
from careline.attachments.records import Kind, Variant, VariantName

_OUTPUT_MAX = 64 * 1024 * 1024  # two previews of at most PREVIEW_MAX_SIDE pixels a side


class PreviewFailed(Exception):
    """No previews for this file; the reason is a short code, never content."""


def wants_previews(kind: Kind) -> bool:
    return kind in (Kind.IMAGE, Kind.PDF)


async def make_previews(
    kind: Kind, body: AsyncIterator[bytes], *, limit_seconds: float
) -> list[tuple[Variant, bytes]]:
    """Thumbnail and preview of an image or a PDF's first page, as (variant, bytes)."""
    header = {"kind": kind.value, "cpu_seconds": math.ceil(limit_seconds)}
    try:
        finished = await child.run(
            "careline.attachments.render",
            header,
            body,
            wall_seconds=limit_seconds,
            output_max=_OUTPUT_MAX,
        )
    except child.ChildTimeout:
        raise PreviewFailed("preview_timeout") from None
    if finished.code != 0 or len(finished.output) > _OUTPUT_MAX:
        raise PreviewFailed(f"render_failed:{finished.code}")
    return _parse(finished.output)


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
