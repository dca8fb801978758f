"""The limits a checking or rendering child sets on itself before it reads a byte. Kept
apart from child.py (the parent's side) so a child imports nothing it does not use:
asyncio alone costs a child start about 100 ms of CPU."""

from __future__ import annotations

import resource


def limit_self(*, memory_bytes: int, cpu_seconds: int) -> None:
    """Address space, CPU time (then SIGXCPU, then SIGKILL) and no file writes at all."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
