"""Finding 8 of issue 16: what a burst took goes back to the system once it is over.
Run in a fresh interpreter of its own, so nothing else in the heap (the test process's
server, its other tests) moves the figures: a burst of 200,000 mid-sized objects (what
a header flood leaves: one malloc'd `bytes` per header), interleaved with a few that
stay, is freed; without a trim glibc keeps nearly all of it."""

from __future__ import annotations

import json
import subprocess
import sys

MIB = 1024 * 1024

BURST = """
import asyncio, json
from careline.kit import memory

trimmer = memory.Trimmer()
kept, burst = [], []
for i in range(200_000):
    burst.append(bytes(1000) + i.to_bytes(4, "big"))
    if i % 100 == 0:
        kept.append(bytes(1000) + i.to_bytes(4, "big"))  # pins the heap's top
peak = memory.rss_bytes()
burst.clear()
freed = memory.rss_bytes()
asyncio.run(trimmer.check())
trimmed = memory.rss_bytes()
asyncio.run(trimmer.check())  # nothing grew since: no second trim
print(json.dumps({"peak": peak, "freed": freed, "trimmed": trimmed, "trims": trimmer.trims}))
"""


def test_memory_freed_after_a_burst_goes_back_to_the_system() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BURST], capture_output=True, text=True, timeout=60, check=True
    )
    figures = json.loads(result.stdout)
    burst = figures["peak"] - figures["trimmed"]
    assert figures["freed"] - figures["trimmed"] >= 100 * MIB, figures
    assert burst >= 100 * MIB, figures
    assert figures["trims"] == 1, figures
