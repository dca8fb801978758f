"""argon2id password hashing (argon2-cffi), off the event loop, in a bounded thread pool.

One verify costs ~87 ms of CPU at the production parameters. Run on the event loop it
stalls every socket of the node for that long, so it runs in worker threads instead:
argon2-cffi calls libargon2 through cffi, which releases the GIL for the whole C call
(the bindings' `_ffi.abi3.so` wraps it in PyEval_SaveThread/RestoreThread), so the loop
keeps running meanwhile. The pool is small, so hashing can never take every core from
the loop, and how many may wait for it is bounded: beyond that the caller gets
`HashingBusy` (503 `sign_in_busy`) at once instead of a queue that grows without end.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from careline.kit.errors import HashingBusy

T = TypeVar("T")

PARALLELISM = 2  # argon2id lanes per hash; libargon2 runs each lane in its own thread
_DECOY_PASSWORD = "careline-decoy-password"  # noqa: S105 - hashed once, never a real one


def default_workers(cpus: int | None = None) -> int:
    """Workers such that their lanes leave a core to the event loop: each hash keeps
    PARALLELISM threads busy, so (cores - 1) // PARALLELISM, and at least one (on two
    cores the loop then shares with one hash, which the OS schedules fairly)."""
    cores = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(1, (cores - 1) // PARALLELISM)


class Passwords:
    def __init__(
        self, *, time_cost: int, memory_kib: int, workers: int = 0, max_waiting: int = 64
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=PARALLELISM
        )
        self.workers = workers or default_workers()
        self.max_waiting = max_waiting
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="careline-passwords")
        self._lock = threading.Lock()  # callers may come from more than one event loop
        self._admitted = 0  # running or waiting for a worker
        self._last_seconds = 0.1  # the last hash's duration, for Retry-After
        # Verified when the e-mail is unknown, so a miss costs as much as a wrong password
        # and response times do not reveal which addresses have accounts. Made in the pool
        # on first use, so even the first sign-in does not hash on the event loop.
        self._decoy: str | None = None

    def _admit(self) -> None:
        with self._lock:
            if self._admitted >= self.workers + self.max_waiting:
                ahead = self._admitted / self.workers
                raise HashingBusy(max(1, math.ceil(ahead * self._last_seconds)))
            self._admitted += 1

    def _timed(self, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self._last_seconds = time.perf_counter() - started

    def _release(self, _future: object) -> None:
        with self._lock:
            self._admitted -= 1

    async def _run(self, fn: Callable[[], T]) -> T:
        self._admit()
        future = self._pool.submit(self._timed, fn)
        # Released when the work is done, not when the caller stops waiting: a client that
        # hangs up must not free a place while its hash still runs or waits.
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    async def hash(self, password: str) -> str:
        """Raises HashingBusy."""
        return await self._run(lambda: self._hasher.hash(password))

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Raises HashingBusy."""
        if self._decoy is None:
            self._decoy = await self.hash(_DECOY_PASSWORD)
        target = stored_hash or self._decoy
        return await self._run(lambda: self._check(target, password)) and bool(stored_hash)

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
