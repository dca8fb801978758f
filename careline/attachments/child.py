"""Short-lived child processes that handle untrusted file bytes, with hard limits.

Walking a file's structure (a zip's directory, an image's chunks, a PDF's pages) costs
what the file's author wants it to cost. The server never does it itself: it runs one
of careline's own modules (`examine`, `render`) as `python -I -m ...`, writes a JSON
header line and then the file's bytes to its stdin, and reads its answer from stdout.
The child caps its own address space, CPU time and file writes before it reads a byte
(rlimits.py); the parent bounds the wall time and the size of the answer and kills the
child when either runs out. A child that crashes or is killed costs only its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol


class ChildTimeout(Exception):
    """The child did not finish within its wall time, and was killed."""


@dataclass(frozen=True, slots=True)
class Finished:
    code: int  # exit status; negative: killed by that signal (SIGXCPU, SIGKILL, ...)
    output: bytes  # at most output_max + 1 bytes: more means the answer is refused


async def _feed(
    proc: asyncio.subprocess.Process, header: dict[str, Any], body: AsyncIterator[bytes]
) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(json.dumps(header).encode() + b"\n")
        async for chunk in body:
            proc.stdin.write(chunk)
            await proc.stdin.drain()
        proc.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the child gave up early; its exit status says so


class Tail(Protocol):
    """Takes what a child writes after its first line (a file it made), block by block,
    so the parent never holds it whole; it bounds and keeps it as it sees fit."""

    async def take(self, data: bytes) -> None: ...


async def _read_all(stream: asyncio.StreamReader, limit: int, tail: Tail | None) -> bytes:
    """Everything until EOF, or a little over `limit` bytes (then the output is refused);
    with a tail, only the first line, and the rest goes to the tail."""
    out = bytearray()
    while len(out) < limit and (block := await stream.read(64 * 1024)):
        out += block
        if tail is not None and (newline := out.find(b"\n")) >= 0:
            rest = bytes(out[newline + 1 :])
            del out[newline + 1 :]
            if rest:
                await tail.take(rest)
            while block := await stream.read(1024 * 1024):
                await tail.take(block)
            break
    return bytes(out)


async def run(
    module: str,
    header: dict[str, Any],
    body: AsyncIterator[bytes],
    *,
    wall_seconds: float,
    output_max: int,
    tail: Tail | None = None,
) -> Finished:
    """Run `python -I -m module`, feed it header and body, collect its stdout (with a
    tail: its first line, and the rest to the tail). Raises ChildTimeout after
    wall_seconds; the child is gone when this returns or raises."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",  # isolated: no user site, no PYTHON* environment, no cwd on the path
        "-m",
        module,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(wall_seconds):
            assert proc.stdout is not None
            _, output = await asyncio.gather(
                _feed(proc, header, body), _read_all(proc.stdout, output_max + 1, tail)
            )
            code = await proc.wait()
    except TimeoutError:
        raise ChildTimeout(module) from None
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    return Finished(code, output)
