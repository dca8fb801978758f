"""The limits a checking or rendering child sets on itself before it reads a byte. Kept
apart from child.py (the parent's side) so a child imports nothing it does not use:
asyncio alone costs a child start about 100 ms of CPU."""

from __future__ import annotations

import os
import resource

# A child yields the CPU to the server: with the event loop at nice 0, the scheduler gives
# a nice-10 process about a tenth of a contended core, so files being checked or
# previewed never slow anyone's messages (bench abuse: zip bomb x3 on 2 cores); an idle
# machine runs the child at full speed all the same.
CHILD_NICENESS = 10


def limit_self(*, memory_bytes: int, cpu_seconds: int) -> None:
    """Address space, CPU time (then SIGXCPU, then SIGKILL), no file writes at all, and a
    lower CPU priority than the server's."""
    os.nice(CHILD_NICENESS)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
