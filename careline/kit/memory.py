"""Memory a burst took goes back to the system once the burst is over (issue 16,
finding 8; docs/performance.md, "Abuse").

Python returns freed objects to the C allocator, not to the system. glibc's malloc
gives memory back only from the top of its heap and only above a threshold: the pages
of a freed burst sit in its free lists, counted in the process's RSS, for as long as
one live object lies above them, which is always. A burst of many mid-sized objects (a
connection's headers: a `bytes` object per header, malloc'd) therefore left the server
hundreds of MiB above its baseline for good. `malloc_trim(0)` walks the free lists and
hands every whole free page back (`madvise`), wherever it lies.

`Trimmer` watches RSS every few seconds and trims when it has grown by `GROWTH_BYTES`
since the last trim (or its lowest since): after a burst. Memory still in use at that
trim (sockets an attacker holds, say) is freed later without RSS moving, so while RSS
stays `GROWTH_BYTES` above the lowest it has been, it trims again every
`RETRY_SECONDS`: one trim every half minute at most in a steady state that is
legitimately larger (thousands of sockets), none in an ordinary one. The
trim runs in a worker thread (ctypes releases the GIL, and glibc locks one arena at a
time, so the event loop only waits if it allocates from the arena being trimmed).
Anywhere but glibc (musl, macOS) this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import sys
import time

from careline.kit import tasks

log = logging.getLogger("careline.memory")

MIB = 1024 * 1024
CHECK_SECONDS = 5.0
GROWTH_BYTES = 32 * MIB  # RSS above the last trimmed level that is worth a trim
RETRY_SECONDS = 30.0
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "malloc_trim"):  # musl has no malloc_trim
        return None
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    return libc


_LIBC = _glibc()


def rss_bytes() -> int:
    """This process's resident set, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def trim() -> bool:
    """Give every whole free page of the C heap back to the system; False if it could
    not (not glibc). Blocks while it walks the heap: call it from a worker thread."""
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True


class Trimmer:
    """The background task that trims after bursts."""

    def __init__(self, *, check_seconds: float = CHECK_SECONDS, growth: int = GROWTH_BYTES):
        self.check_seconds = check_seconds
        self.growth = growth
        self.floor = self.lowest = rss_bytes()
        self.trims = 0
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if _LIBC is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="memory trim")

    async def stop(self) -> None:
        await tasks.cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            await self.check()

    async def check(self) -> None:
        """Trim if RSS grew by `growth` since the last trim, or is still that far above
        its lowest and the last trim is `RETRY_SECONDS` old; else follow RSS down."""
        before = rss_bytes()
        self.lowest = min(self.lowest, before)
        now = asyncio.get_running_loop().time()
        grew = before - self.floor >= self.growth
        high = before - self.lowest >= self.growth and now - self._last >= RETRY_SECONDS
        if not (grew or high):
            self.floor = min(self.floor, before)
            return
        started = time.perf_counter()
        await asyncio.to_thread(trim)
        self.trims += 1
        self._last = now
        self.floor = rss_bytes()
        if before - self.floor >= self.growth // 4:  # a trim that gave little is not news
            log.info(
                "memory returned after a burst",
                extra={
                    "rss_before_mib": before // MIB,
                    "rss_after_mib": self.floor // MIB,
                    "trim_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
