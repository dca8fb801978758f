"""The ordinary user of issue 16: while an attack runs, someone sends a message every
200 ms over a real socket and times the ack. Every abuse test runs one beside its
attack; every send must be acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

from tests.support.server import RunningServer
from tests.support.world import Persona
from tests.support.ws import connect

SEND_EVERY = 0.2  # the ordinary user of the issue sends a message every 200 ms


@contextlib.asynccontextmanager
async def ordinary_user(
    server: RunningServer, who: Persona, conversation_id: str
) -> AsyncIterator[list[float]]:
    """Sends a message every 200 ms over a real socket until the block ends; yields the
    ack latencies (seconds). Every send must be acknowledged: an error or no ack within
    the request timeout fails the test."""
    latencies: list[float] = []
    stop = asyncio.Event()
    async with connect(server.ws_url, who.token) as ws:

        async def send_forever() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                await ws.request(
                    "message.send",
                    timeout=30,
                    conversation_id=conversation_id,
                    client_msg_id=uuid.uuid4().hex,
                    text="still here",
                )
                latencies.append(time.perf_counter() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), SEND_EVERY)

        sender = asyncio.get_running_loop().create_task(send_forever())
        try:
            yield latencies
        finally:
            stop.set()
            await sender  # re-raises a send that failed or was never acknowledged


def report(what: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    # Figures for the reader, not asserted: performance budgets live in `careline bench`.
    print(
        f"\n{what}: {len(ordered)} sends acked, median {ordered[len(ordered) // 2] * 1000:.1f} ms,"
        f" p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )
