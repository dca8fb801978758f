"""Issue 16, finding 6: sign-in under abuse. Passwords are hashed off the event loop in a
bounded pool (503 `sign_in_busy` past its waiting room), successful sign-ins spend a
budget per account and per address (429 `sign_in_budget`), and people signing in at
once from one address are not held up by each other."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from careline import config
from careline.db.tx import Actor, Role, transaction
from careline.tenants import service as tenant_service
from tests.support.ordinary import ordinary_user, report
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, World

# Addresses of their own (127.0.1.N), apart from test_auth.py's 127.0.0.N: an address's
# throttle row outlives the test that made it.
_next_address = iter(range(10, 250))
_PRODUCTION = config.Settings.model_fields  # the defaults a real deployment hashes with


def new_address() -> str:
    return f"127.0.1.{next(_next_address)}"


@asynccontextmanager
async def client_at(
    server: RunningServer, address: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(local_address=address or new_address())
    async with httpx.AsyncClient(
        base_url=server.base_url, transport=transport, timeout=60
    ) as client:
        yield client


@contextlib.contextmanager
def settings(server: RunningServer, **update: Any) -> Iterator[None]:
    """The server's settings with `update`, for this block (read at each sign-in)."""
    config.use(server.settings.model_copy(update=update))
    try:
        yield
    finally:
        config.use(server.settings)


def production_hashing(
    server: RunningServer, **update: Any
) -> contextlib.AbstractContextManager[None]:
    return settings(
        server,
        password_time_cost=_PRODUCTION["password_time_cost"].default,
        password_memory_kib=_PRODUCTION["password_memory_kib"].default,
        **update,
    )


async def token(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/token", json={"email": email, "password": password})


async def add_people(world: World, n: int) -> list[str]:
    """n more staff in the world's organisation; their e-mails. Their passwords are
    hashed with the settings in force."""
    emails = [f"extra-{uuid.uuid4().hex[:8]}@{world.slug}.test" for _ in range(n)]
    async with transaction(Actor.system(world.tenant_id)) as tx:
        for email in emails:
            await tenant_service.do_add_member(
                tx,
                tenant_id=world.tenant_id,
                email=email,
                display_name="Extra Staff",
                role=Role.STAFF,
                password=PASSWORD,
            )
    return emails


@pytest.fixture
def hashing_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread of every argon2 hash and verify this process ran."""
    seen: list[int] = []

    def spying(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen.append(threading.get_ident())
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(PasswordHasher, "verify", spying(PasswordHasher.verify))
    monkeypatch.setattr(PasswordHasher, "hash", spying(PasswordHasher.hash))
    return seen


async def _loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late the event loop (the server's too: it runs in this process) wakes a
    5 ms sleep."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(time.perf_counter() - started - 0.005)


async def _care(server: RunningServer, world: World) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post(
            "/api/v1/conversations",
            json={"kind": "care", "client_id": str(world["lily"].account_id)},
            headers=world["sam"].auth,
        )
    assert response.status_code in (200, 201), response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


async def test_four_sign_in_loops_hash_off_the_event_loop_while_others_are_acked(
    server: RunningServer, world: World, hashing_threads: list[int]
) -> None:
    """The attack of the issue: four loops of successful sign-ins at production argon2id
    cost. Every verify runs in a password thread, never on the event loop's thread, and
    the ordinary user's sends are all acknowledged meanwhile."""
    care = await _care(server, world)
    loop_thread = threading.get_ident()
    with production_hashing(server):
        emails = await add_people(world, 4)
        async with contextlib.AsyncExitStack() as stack:
            # Made before the clock starts: making an httpx client loads CA certificates
            # on the event loop, which this process shares with the server.
            clients = [await stack.enter_async_context(client_at(server)) for _ in emails]

            async def sign_in_loop(client: httpx.AsyncClient, email: str) -> list[int]:
                return [(await token(client, email)).status_code for _ in range(4)]

            stop, lags = asyncio.Event(), [0.0]
            ticker = asyncio.get_running_loop().create_task(_loop_lag(stop, lags))
            hashing_threads.clear()
            async with ordinary_user(server, world["sam"], care) as latencies:
                statuses = await asyncio.gather(*map(sign_in_loop, clients, emails))
            stop.set()
            await ticker
    assert statuses == [[200] * 4] * 4
    assert len(hashing_threads) >= 16
    assert loop_thread not in hashing_threads
    report("four successful sign-in loops", latencies)
    print(f"event loop lag: max {max(lags) * 1000:.1f} ms over {len(lags)} ticks")


async def test_successful_sign_ins_spend_a_budget_per_account(
    server: RunningServer, world: World
) -> None:
    (sam,) = await add_people(world, 1)  # not signed in yet
    with settings(server, login_account_burst=3, login_account_per_hour=1):
        async with client_at(server) as client:
            for _ in range(3):
                assert (await token(client, sam)).status_code == 200
            over = await token(client, sam)
        # The account's budget, wherever the next sign-in comes from.
        async with client_at(server) as elsewhere:
            also_over = await token(elsewhere, sam)
            others = await token(elsewhere, world["jo"].email)
    for refused in (over, also_over):
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "sign_in_budget"
        # One more unit refills in an hour at 1 an hour.
        assert 3500 <= int(refused.headers["retry-after"]) <= 3600
        assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
    assert others.status_code == 200


async def test_successful_sign_ins_spend_a_budget_per_address(
    server: RunningServer, world: World
) -> None:
    with settings(server, login_address_burst=3, login_address_per_hour=60):
        async with client_at(server) as shared:
            for who in ("sam", "jo", "lily"):
                assert (await token(shared, world[who].email)).status_code == 200
            over = await token(shared, world["tom"].email)
        async with client_at(server) as elsewhere:
            assert (await token(elsewhere, world["tom"].email)).status_code == 200
    assert over.status_code == 429, over.text
    assert over.json()["code"] == "sign_in_budget"
    assert 1 <= int(over.headers["retry-after"]) <= 60


async def test_a_new_account_made_through_an_invitation_spends_the_address_budget(
    server: RunningServer, world: World
) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        invited = await http.post(
            "/api/v1/admin/members",
            json={"email": email, "display_name": "New Person", "role": "staff"},
            headers=world["admin"].auth,
        )
    assert invited.status_code == 201, invited.text
    link = invited.json()["link"].partition("#")[2]
    accept = {"token": link, "password": PASSWORD, "display_name": "New Person"}
    with settings(server, login_address_burst=1, login_address_per_hour=60):
        async with client_at(server) as shared:
            assert (await token(shared, world["sam"].email)).status_code == 200
            over = await shared.post("/api/v1/invitations/accept", json=accept)
            assert over.status_code == 429, over.text
            assert over.json()["code"] == "sign_in_budget"
            # Nothing was made: the link still works, from an address with budget left.
            async with client_at(server) as elsewhere:
                joined = await elsewhere.post("/api/v1/invitations/accept", json=accept)
    assert joined.status_code == 200, joined.text


async def test_past_the_password_threads_waiting_room_sign_ins_get_503_at_once(
    server: RunningServer,
) -> None:
    """One password thread and room for one more to wait: of eight sign-ins at once
    (unknown e-mails, each from its own address, so no throttle is involved) the rest
    are told to come back instead of queueing."""
    with production_hashing(server, password_hash_workers=1, password_hash_max_waiting=1):
        async with client_at(server) as first:  # makes the pool, and its decoy hash
            assert (await token(first, "nobody@example.org")).status_code == 401

        async def attempt(i: int) -> httpx.Response:
            async with client_at(server) as client:
                return await token(client, f"nobody-{i}@example.org")

        answers = await asyncio.gather(*(attempt(i) for i in range(8)))
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) == {401, 503}, statuses
    for busy in (r for r in answers if r.status_code == 503):
        assert busy.headers["content-type"].startswith("application/problem+json")
        assert busy.json()["code"] == "sign_in_busy"
        assert int(busy.headers["retry-after"]) >= 1


async def test_people_signing_in_at_once_from_one_address_are_not_held_up(
    server: RunningServer, world: World
) -> None:
    """Eight correct sign-ins at once from one address (a clinic's shared NAT at 9:00),
    more than the free failures: none waits for the others' verdicts."""
    emails = await add_people(world, 8)
    assert len(emails) > server.settings.login_free_failures
    async with client_at(server) as clinic:
        answers = await asyncio.gather(*(token(clinic, e) for e in emails))
    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]


async def test_a_valid_account_does_not_wipe_its_addresss_count_of_guesses(
    server: RunningServer, world: World
) -> None:
    """An attacker with one valid account guesses at others from one address; signing
    in to their own account forgives one failure of the address, not all of them."""
    free = server.settings.login_free_failures
    targets = ["jo", "lily", "tom", "grace"]
    address = new_address()
    async with client_at(server, address) as attacker:
        for who in targets[:free]:
            assert (await token(attacker, world[who].email, "guess")).status_code == 401
        # Let the 1 s wait after the free failures pass, without sleeping through it.
        async with transaction(Actor.system()) as tx:
            await tx.conn.execute(
                "UPDATE login_throttle SET last_failure_at = last_failure_at - $2::interval "
                "WHERE key = $1",
                f"addr:{address}",
                dt.timedelta(seconds=5),
            )
        assert (await token(attacker, world["sam"].email)).status_code == 200
        # One failure forgiven: one more free guess, then the wait again.
        assert (await token(attacker, world["grace"].email, "guess")).status_code == 401
        again = await token(attacker, world["admin"].email, "guess")
    assert again.status_code == 429, again.text
    assert again.json()["code"] == "rate_limited"


async def test_a_password_change_holds_no_database_connection_while_it_waits_to_hash(
    server: RunningServer, world: World
) -> None:
    """A password change waits for a password thread like a sign-in does. Meanwhile it
    must hold no pooled connection (no transaction left open): a few password changes
    queued behind hashes would otherwise take the pool from everyone."""
    person = world["sam"]
    new_password = "a-new-password-for-sam"
    with settings(server, password_hash_workers=1):
        hasher = tenant_service.passwords()
        gate = threading.Event()
        hasher._pool.submit(gate.wait)  # the one thread is busy until the gate opens
        try:
            async with client_at(server) as client:
                change = asyncio.create_task(
                    client.patch(
                        "/api/v1/me",
                        json={"password": new_password, "current_password": PASSWORD},
                        headers=person.auth,
                    )
                )
                for _ in range(500):  # until the change waits for the thread
                    if hasher._admitted:
                        break
                    await asyncio.sleep(0.01)
                assert hasher._admitted, "the password change never reached the hashing"
                async with transaction(Actor.system(), readonly=True) as tx:
                    held = await tx.conn.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE usename = current_user "
                        "AND state LIKE 'idle in transaction%' AND query LIKE '%password_hash%'"
                    )
                gate.set()
                answer = await change
                assert answer.status_code == 204, answer.text
                assert held == 0
                assert (await token(client, person.email, new_password)).status_code == 200
        finally:
            gate.set()
