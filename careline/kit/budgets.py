"""Per-person budgets: how often one person may do a thing, in a burst and sustained.

A budget is a name (stable, named in the error) and its rates in the `limits` library's
notation, several joined by `;` ("20/second;600/minute": a burst and a sustained rate).
A spend takes one from every rate of each budget it charges, for a key (a person, or a
person in a conversation), or takes nothing and raises OverBudget: a refused request
counts for nothing, so waiting the time the error names is enough.

Budgets sit behind the `Budgets` interface so that several nodes can share one store
later: `LimitsBudgets` runs on any `limits` async storage, in memory here (per node, as
DESIGN.md has for ephemeral state), Redis when the cluster-wide state comes.

The strategy is the sliding-window counter: two counters per key and rate, O(1) memory
and work per spend, in memory and in Redis alike. (The exact moving window keeps a
timestamp per spend and its in-memory store sweeps every key through a thread on each
spend: the wrong cost for a check that must stay cheap during a flood.)
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from careline.kit.errors import RateLimited


class OverBudget(RateLimited):
    """429 `rate_limited`, naming the budget; nothing was done. `retry_after` (seconds,
    rounded up, also the Retry-After header) and `retry_after_ms` say when one more
    fits."""

    title = "Too many requests"

    def __init__(self, budget: str, *, retry_after_ms: int) -> None:
        super().__init__(
            f"too many requests of this kind ({budget}); wait and try again",
            retry_after=max(1, math.ceil(retry_after_ms / 1000)),
        )
        self.budget = budget
        self.retry_after_ms = retry_after_ms
        self.extra.update(budget=budget, retry_after_ms=retry_after_ms)


@functools.lru_cache(maxsize=64)
def parse_rates(rates: str) -> tuple[RateLimitItem, ...]:
    """ "20/second;600/minute" as rate items; ValueError for anything else (settings
    call this at start, so a bad value stops careline with the setting's name)."""
    items = tuple(parse_many(rates))
    if not items:
        raise ValueError("give at least one rate, such as 20/second;600/minute")
    return items


@dataclass(frozen=True, slots=True)
class Charge:
    """One unit of `budget` (its rates in the limits notation) for `key`."""

    budget: str
    rates: str
    key: tuple[str, ...]


def charge(budget: str, rates: str, *key: str) -> Charge:
    return Charge(budget, rates, key)


class Budgets(Protocol):
    async def spend(self, *charges: Charge) -> None:
        """Take every charge, or raise OverBudget (for the first that does not fit) and
        take none of them."""
        ...


class LimitsBudgets:
    """Budgets kept by the `limits` library in `storage` (memory, or Redis later)."""

    def __init__(self, storage: Storage) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    async def spend(self, *charges: Charge) -> None:
        rated = [(c, item) for c in charges for item in parse_rates(c.rates)]
        for c, item in rated:
            if not await self._limiter.test(item, c.budget, *c.key):
                raise await self._refusal(c, item)
        for c, item in rated:
            # Nothing yields between the tests and here in memory; with a shared store a
            # racing spend may win the last unit, and this one is refused instead.
            if not await self._limiter.hit(item, c.budget, *c.key):
                raise await self._refusal(c, item)

    async def _refusal(self, c: Charge, item: RateLimitItem) -> OverBudget:
        stats = await self._limiter.get_window_stats(item, c.budget, *c.key)
        wait = stats.reset_time - time.time()
        return OverBudget(c.budget, retry_after_ms=max(1, math.ceil(wait * 1000)))


class _Current:
    budgets: Budgets | None = None


_current = _Current()


def use(budgets: Budgets) -> None:
    """Make `budgets` the store every spend uses (set at start, or by a test)."""
    _current.budgets = budgets


def current() -> Budgets:
    """The store in use; in memory unless `use` chose another."""
    if _current.budgets is None:
        _current.budgets = LimitsBudgets(MemoryStorage())
    return _current.budgets


async def spend(*charges: Charge) -> None:
    """Spend from the current store; see `Budgets.spend`."""
    await current().spend(*charges)
