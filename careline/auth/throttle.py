"""The sign-in throttle: failures slow down, successes spend a budget. One table
(login_throttle, in PostgreSQL so it holds across nodes), one row per key, each step one
transaction with the rows locked.

Failures slow down (exponentially, capped) per address and per account. An account's
attempt is counted as a failure *before* its password is checked, in the same locked
step that admits it, and forgiven when it proves right: so a burst of concurrent guesses
at one password gets only the free number of verdicts. An address's failures are counted
at the verdict instead, so many people signing in at once from one address (a clinic's
NAT, the test suite, the bench seeder) are never held up by each other's attempts still
in flight; how many guesses one address can have in flight at once is bounded by the
password threads' waiting room (kit/passwords.py), not by this table.

Every successful sign-in (each one a new session or token) spends one unit of a budget
per account and per address: a leaky bucket that holds `burst` and drains at the refill
rate. Over it: 429 `sign_in_budget`, checked before the password is (so an account over
budget costs no hashing) and again, exactly, when spending.

A success forgets the failures of the key its attempt counted on (the account's, or its
device cookie's) and forgives one failure of its address. Only one: an attacker with one
valid account must not wipe the address's count of guesses at other accounts, and each
forgiven failure costs a unit of that account's budget; but a shared computer where a
few people mistype still recovers as colleagues sign in.

A row whose failures are forgotten and whose budget has drained means what no row
means, so an hourly job (auth/jobs.py) removes them: the table holds the keys of the
last day, not of every address that ever tried.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from careline import config
from careline.auth import store
from careline.auth.records import Throttle
from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.kit.errors import RateLimited

_MEMORY = dt.timedelta(hours=24)  # failures older than this are forgotten


@dataclass(frozen=True, slots=True)
class Keys:
    address: str  # addr:<ip>
    guessing: str  # dev:<nonce> or acct:<hash>: where this account's failures count
    account: str  # acct:<hash>: where its successes count (device cookies are made anew)

    @property
    def all(self) -> list[str]:
        return sorted({self.address, self.guessing, self.account})


def account_key(email: str) -> str:
    return "acct:" + hashlib.sha256(email.lower().encode()).hexdigest()[:32]


def keys_for(email: str, address: str, device_nonce: str | None) -> Keys:
    account = account_key(email)
    guessing = f"dev:{device_nonce}" if device_nonce is not None else account
    return Keys(address=f"addr:{address}", guessing=guessing, account=account)


def _failure_wait(throttle: Throttle, now: dt.datetime) -> int:
    settings = config.current()
    over = throttle.failures - settings.login_free_failures
    if over < 0:
        return 0
    delay = min(settings.login_max_delay_seconds, 2**over)
    remaining = delay - (now - throttle.last_failure_at).total_seconds()
    return max(0, int(remaining + 0.999))


def _budgets(keys: Keys) -> dict[str, tuple[int, float]]:
    """Each budget key's (burst, refill per second)."""
    s = config.current()
    return {
        keys.address: (s.login_address_burst, s.login_address_per_hour / 3600),
        keys.account: (s.login_account_burst, s.login_account_per_hour / 3600),
    }


def _spent_now(throttle: Throttle, per_second: float, now: dt.datetime) -> float:
    drained = max(0.0, (now - throttle.spent_at).total_seconds()) * per_second
    return max(0.0, throttle.spent - drained)


def _budget_wait(throttles: dict[str, Throttle], keys: Keys, now: dt.datetime) -> int:
    """Seconds until one more success fits every budget of these keys."""
    wait = 0.0
    for key, (burst, per_second) in _budgets(keys).items():
        over = _spent_now(throttles[key], per_second, now) + 1 - burst
        if over > 0:
            wait = max(wait, over / per_second)
    return math.ceil(wait)


def _over_budget(wait: int) -> RateLimited:
    return RateLimited(
        "too many sign-ins for this account or address; try again later",
        retry_after=wait,
        code="sign_in_budget",
    )


def _spend(throttles: dict[str, Throttle], keys: Keys, now: dt.datetime) -> dict[str, float]:
    return {
        key: _spent_now(throttles[key], per_second, now) + 1
        for key, (_, per_second) in _budgets(keys).items()
    }


async def admit(keys: Keys) -> None:
    """May this attempt have its password checked? Counts it against the account before
    the check (see the module's docstring). An attempt that is refused is not counted, so
    waiting it out always works. Raises RateLimited (`rate_limited`, `sign_in_budget`)."""
    now = clock.now()
    async with transaction(Actor.system()) as tx:
        throttles = await store.lock_throttles(tx, keys.all, forget_before=now - _MEMORY)
        failing = [throttles[keys.address], throttles[keys.guessing]]
        wait = max(_failure_wait(t, now) for t in failing)
        if wait:
            raise RateLimited("too many failed sign-ins; try again later", retry_after=wait)
        if wait := _budget_wait(throttles, keys, now):
            raise _over_budget(wait)
        await store.count_failure(tx, [keys.guessing])


async def note_failure(keys: Keys) -> None:
    """The verdict was no: the address counts it now (the account did on admission)."""
    now = clock.now()
    async with transaction(Actor.system()) as tx:
        await store.lock_throttles(tx, [keys.address], forget_before=now - _MEMORY)
        await store.count_failure(tx, [keys.address])


async def note_success(keys: Keys) -> None:
    """The verdict was yes: forgive, and spend the budget. Raises RateLimited
    `sign_in_budget` when concurrent successes spent it meanwhile (the forgiveness of the
    account's own failures stands: its password was right)."""
    now = clock.now()
    async with transaction(Actor.system()) as tx:
        throttles = await store.lock_throttles(tx, keys.all, forget_before=now - _MEMORY)
        wait = _budget_wait(throttles, keys, now)
        one_less = [] if wait else [keys.address]
        await store.forgive(tx, cleared=[keys.guessing], one_less=one_less)
        if not wait:
            await store.set_spent(tx, _spend(throttles, keys, now), at=now)
    if wait:
        raise _over_budget(wait)


async def spend(keys: Keys) -> None:
    """A session opened without a password check (a new account made through an
    invitation) spends the same budget. Raises RateLimited `sign_in_budget`."""
    now = clock.now()
    async with transaction(Actor.system()) as tx:
        throttles = await store.lock_throttles(tx, keys.all, forget_before=now - _MEMORY)
        if wait := _budget_wait(throttles, keys, now):
            raise _over_budget(wait)
        await store.set_spent(tx, _spend(throttles, keys, now), at=now)


_PRUNE_BATCH = 5000


async def prune() -> int:
    """Remove the rows that hold nothing any more, in batches (each its own short
    transaction, so sign-ins never wait long on the job). Returns how many went."""
    s = config.current()
    removed = 0
    while True:
        async with transaction(Actor.system()) as tx:
            batch = await store.delete_spent_throttles(
                tx,
                forgotten_before=clock.now() - _MEMORY,
                address_per_second=s.login_address_per_hour / 3600,
                account_per_second=s.login_account_per_hour / 3600,
                limit=_PRUNE_BATCH,
            )
        removed += batch
        if batch < _PRUNE_BATCH:
            return removed
