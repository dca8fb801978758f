"""The server's memory around a burst of hostile and large uploads (docs/performance.md,
"File attacks: memory and the ordinary user"). Starts `careline serve` in a temporary
data directory (careline/bench/server.py), seeds one care conversation, and reports
the server process's RSS before, at the peak of, and after each burst of three parallel
uploads, and the ack latencies of another user sending a message every 200 ms over the
socket meanwhile.

    .venv/bin/python scripts/measure_file_memory.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import websockets

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


async def _ordinary_user(
    url: str, token: str, conversation: str, stop: asyncio.Event
) -> list[float]:
    """Ack latencies (ms) of a message every 200 ms until stopped."""
    latencies = []
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"op": "auth", "ref": "a", "token": token}))
        json.loads(await ws.recv())
        while not stop.is_set():
            started = time.perf_counter()
            ref = uuid.uuid4().hex
            await ws.send(
                json.dumps(
                    {
                        "op": "message.send",
                        "ref": ref,
                        "conversation_id": conversation,
                        "client_msg_id": ref,
                        "text": "still here",
                    }
                )
            )
            while json.loads(await ws.recv()).get("ref") != ref:
                pass
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.2)
    return latencies


def _summary(latencies: list[float]) -> str:
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{len(ordered)} sends, median {ordered[len(ordered) // 2]:.0f} ms, p99 {p99:.0f} ms"


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
            ws_url = f"ws://127.0.0.1:{server.port}/api/v1/ws"
            proc = psutil.Process(server.pid)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{server.port}", timeout=300
            ) as http:
                await _upload(http, token, conversation, "warm.docx", files.docx())
                await asyncio.sleep(SETTLE_SECONDS)
                stop = asyncio.Event()
                idle = asyncio.get_running_loop().create_task(
                    _ordinary_user(ws_url, world.people[0].token, conversation, stop)
                )
                await asyncio.sleep(SETTLE_SECONDS)
                stop.set()
                print(
                    f"baseline: {proc.memory_info().rss / MIB:.0f} MiB; "
                    f"ordinary user {_summary(await idle)}"
                )
                for what, (name, data) in bursts.items():
                    stop, seen = asyncio.Event(), [0.0]
                    watcher = asyncio.get_running_loop().create_task(_peak(proc, stop, seen))
                    user = asyncio.get_running_loop().create_task(
                        _ordinary_user(ws_url, world.people[0].token, conversation, stop)
                    )
                    started = time.perf_counter()
                    codes = await asyncio.gather(
                        *(_upload(http, token, conversation, f"{i} {name}", data) for i in range(3))
                    )
                    took = time.perf_counter() - started
                    stop.set()
                    await watcher
                    latencies = await user
                    await asyncio.sleep(SETTLE_SECONDS)
                    print(
                        f"{what} x3: {codes} in {took:.1f} s; peak {max(seen):.0f} MiB, "
                        f"{SETTLE_SECONDS:.0f} s later {proc.memory_info().rss / MIB:.0f} MiB; "
                        f"ordinary user {_summary(latencies)}"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
