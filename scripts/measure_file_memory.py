"""The server's memory around a burst of hostile and large uploads (docs/performance.md,
"Memory after file attacks"). Starts `careline serve` in a temporary data directory
(careline/bench/server.py), seeds one care conversation, and reports the server
process's RSS before, at the peak of, and after each burst of three parallel uploads.

    .venv/bin/python scripts/measure_file_memory.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from careline.bench.seed import Seeder
from careline.bench.server import ServerProcess, clean_environment
from careline.db.tx import Role
from tests.support import files

MIB = 1024 * 1024
SETTLE_SECONDS = 5.0


async def _upload(
    http: httpx.AsyncClient, token: str, conversation: str, name: str, data: bytes
) -> int:
    response = await http.post(
        f"/api/v1/conversations/{conversation}/attachments",
        content=data,
        headers={"Authorization": f"Bearer {token}", "X-File-Name": quote(name)},
    )
    return response.status_code


async def _peak(proc: psutil.Process, stop: asyncio.Event, seen: list[float]) -> None:
    while not stop.is_set():
        seen.append(proc.memory_info().rss / MIB)
        await asyncio.sleep(0.05)


async def main() -> None:
    clean_environment()
    bursts = {
        "zip directory bomb (490,000 entries, 26 MB)": ("notes.docx", files.zip_directory_bomb()),
        "PNG chunk bomb (2 million chunks, 24 MB)": ("photo.png", files.png_chunk_bomb()),
        "large PDF (20 MiB, accepted)": ("scan.pdf", b"%PDF-1.7\n" + b"\0" * (20 * MIB)),
    }
    with tempfile.TemporaryDirectory() as data_dir:
        server = ServerProcess(Path(data_dir))
        server.launch()
        try:
            await server.wait_ready()
            async with Seeder(Path(data_dir), server.port) as seeder:
                world = await seeder.people([Role.STAFF, Role.CLIENT])
                await seeder.care(world, [(0, 1)])
            conversation = next(iter(world.members))
            token = world.people[1].token
            proc = psutil.Process(server.pid)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{server.port}", timeout=300
            ) as http:
                await _upload(http, token, conversation, "warm.docx", files.docx())
                await asyncio.sleep(SETTLE_SECONDS)
                print(f"baseline: {proc.memory_info().rss / MIB:.0f} MiB")
                for what, (name, data) in bursts.items():
                    stop, seen = asyncio.Event(), [0.0]
                    watcher = asyncio.get_running_loop().create_task(_peak(proc, stop, seen))
                    started = time.perf_counter()
                    codes = await asyncio.gather(
                        *(_upload(http, token, conversation, f"{i} {name}", data) for i in range(3))
                    )
                    took = time.perf_counter() - started
                    stop.set()
                    await watcher
                    await asyncio.sleep(SETTLE_SECONDS)
                    print(
                        f"{what} x3: {codes} in {took:.1f} s; peak {max(seen):.0f} MiB, "
                        f"{SETTLE_SECONDS:.0f} s later {proc.memory_info().rss / MIB:.0f} MiB"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
