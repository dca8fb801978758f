"""Sign-in, cookies and CSRF, throttling that slows guessing without locking people out,
revocation that closes sockets within a second, expiry."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from careline.db.tx import Actor, Role, transaction
from careline.tenants import service as tenant_service
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, World
from tests.support.ws import connect

_next_address = iter(range(10, 250))


@asynccontextmanager
async def browser(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    """A client from its own loopback address (127.0.0.N), so per-address throttling in
    one test never touches another."""
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{next(_next_address)}")
    async with httpx.AsyncClient(
        base_url=server.base_url, transport=transport, timeout=30
    ) as client:
        yield client


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password, **extra}
    )


async def test_browser_session_uses_an_httponly_cookie_and_csrf_on_every_change(
    server: RunningServer, world: World
) -> None:
    async with browser(server) as client:
        r = await login(client, world["lily"].email)
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"]
        assert "careline_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        csrf = r.json()["csrf_token"]
        me = await client.get("/api/v1/me")
        assert me.json()["display_name"] == "Lily Client"
        assert me.json()["csrf_token"] == csrf
        forged = await client.patch("/api/v1/me", json={"display_name": "Evil"})
        assert forged.status_code == 403
        assert forged.json()["code"] == "csrf_failed"
        wrong = await client.patch(
            "/api/v1/me", json={"display_name": "Evil"}, headers={"x-csrf-token": "nope"}
        )
        assert wrong.status_code == 403
        ok = await client.patch(
            "/api/v1/me", json={"display_name": "Lily C."}, headers={"x-csrf-token": csrf}
        )
        assert ok.status_code == 204
        out = await client.post("/api/v1/auth/logout", headers={"x-csrf-token": csrf})
        assert out.status_code == 204
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    server: RunningServer, world: World
) -> None:
    async with browser(server) as client:
        wrong = await login(client, world["sam"].email, "not the password")
        unknown = await login(client, "nobody@nowhere.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


async def test_repeated_failures_slow_down_per_account_but_not_a_known_device(
    server: RunningServer, world: World
) -> None:
    victim = world["jo"].email
    async with browser(server) as victims_browser:
        # The victim signed in on this browser before: it holds a device cookie.
        assert (await login(victims_browser, victim)).status_code == 200
        async with browser(server) as attacker, browser(server) as attacker2:
            free = server.settings.login_free_failures
            for i in range(free):
                r = await login(attacker if i % 2 else attacker2, victim, f"guess {i}")
                assert r.status_code == 401
            blocked = await login(attacker, victim, "guess again")
            assert blocked.status_code == 429
            assert blocked.json()["code"] == "rate_limited"
            assert int(blocked.headers["retry-after"]) >= 1
            # Even the right password waits, from any new address: guessing gains nothing.
            async with browser(server) as stranger:
                assert (await login(stranger, victim)).status_code == 429
        # The victim's own browser is throttled on its own key: not locked out.
        assert (await login(victims_browser, victim)).status_code == 200


async def test_a_burst_of_concurrent_guesses_gets_only_the_free_number_of_verdicts(
    server: RunningServer, world: World
) -> None:
    """The throttle decides and counts in one locked step: 40 wrong guesses sent at once
    cannot all slip past the check before the first of them is counted."""
    free = server.settings.login_free_failures
    async with browser(server) as attacker:
        answers = await asyncio.gather(
            *(login(attacker, world["tom"].email, f"burst {i}") for i in range(40))
        )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * free + [429] * (40 - free), statuses
    for r in answers:
        if r.status_code == 429:
            assert r.json()["code"] == "rate_limited"
            assert int(r.headers["retry-after"]) >= 1


async def test_repeated_failures_slow_down_per_address_across_accounts(
    server: RunningServer, world: World
) -> None:
    async with browser(server) as sprayer:
        for i, who in enumerate(["sam", "jo", "lily"][: server.settings.login_free_failures]):
            assert (await login(sprayer, world[who].email, f"spray {i}")).status_code == 401
        assert (await login(sprayer, world["tom"].email, "spray")).status_code == 429
    async with browser(server) as someone_else:
        assert (await login(someone_else, world["tom"].email)).status_code == 200


async def test_the_wait_grows_and_then_ends(server: RunningServer, world: World) -> None:
    async with browser(server) as client:
        for i in range(server.settings.login_free_failures):
            await login(client, world["tom"].email, f"x{i}")
        first = await login(client, world["tom"].email, "x")
        assert first.status_code == 429
        await asyncio.sleep(int(first.headers["retry-after"]) + 0.1)
        after_wait = await login(client, world["tom"].email)
        assert after_wait.status_code == 200, after_wait.text


async def test_admin_revocation_closes_the_members_sockets_within_a_second(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    async with (
        connect(server.ws_url, world["lily"].token) as phone,
        connect(server.ws_url, world["lily"].token) as laptop,
    ):
        started = time.monotonic()
        r = await http.post(
            f"/api/v1/admin/members/{world['lily'].account_id}/revoke-sessions",
            headers=world["admin"].auth,
        )
        assert r.json() == {"revoked": 1}
        assert await phone.closed(timeout=1.0) == 4001
        assert await laptop.closed(timeout=1.0) == 4001
        assert time.monotonic() - started < 1.0
    assert (await http.get("/api/v1/me", headers=world["lily"].auth)).status_code == 401
    # Other people's sockets stay open.
    async with connect(server.ws_url, world["sam"].token) as sam:
        assert (await sam.request("ping")) == {}


async def test_signing_out_closes_that_sessions_sockets_only(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    from tests.support.world import sign_in

    second_token = await sign_in(server.base_url, world["sam"].email)
    async with (
        connect(server.ws_url, world["sam"].token) as first,
        connect(server.ws_url, second_token) as second,
    ):
        r = await http.post(
            "/api/v1/auth/logout", headers={"authorization": f"Bearer {second_token}"}
        )
        assert r.status_code == 204
        assert await second.closed(timeout=1.0) == 4001
        assert (await first.request("ping")) == {}


async def test_expired_forged_and_malformed_credentials_are_refused(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    for header in ("Bearer forged-token", "Bearer", "Basic abc", "Bearer " + "x" * 500):
        r = await http.get("/api/v1/me", headers={"authorization": header})
        assert r.status_code == 401, header
        assert r.headers["content-type"] == "application/problem+json"
    # A session idle past the limit has ended.
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            "UPDATE sessions SET last_used_at = now() - $2::interval WHERE account_id = $1",
            world["tom"].account_id,
            dt.timedelta(minutes=server.settings.session_idle_minutes + 1),
        )
    assert (await http.get("/api/v1/me", headers=world["tom"].auth)).status_code == 401
    # So has one past its absolute expiry, however recently used.
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE account_id = $1",
            world["sam"].account_id,
        )
    assert (await http.get("/api/v1/me", headers=world["sam"].auth)).status_code == 401


async def test_disabling_a_member_ends_their_sessions_and_sign_ins(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    async with connect(server.ws_url, world["tom"].token) as tom:
        r = await http.patch(
            f"/api/v1/admin/members/{world['tom'].account_id}",
            json={"disabled": True},
            headers=world["admin"].auth,
        )
        assert r.json()["disabled"] is True
        assert await tom.closed(timeout=1.0) == 4001
    async with browser(server) as client:
        refused = await login(client, world["tom"].email)
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_membership"
    self_disable = await http.patch(
        f"/api/v1/admin/members/{world['admin'].account_id}",
        json={"disabled": True},
        headers=world["admin"].auth,
    )
    assert self_disable.status_code == 409


async def test_someone_in_two_organisations_chooses_one(
    server: RunningServer, world: World, other_world: World
) -> None:
    async with transaction(Actor.system(other_world.tenant_id)) as tx:
        await tenant_service.do_add_member(
            tx,
            tenant_id=other_world.tenant_id,
            email=world["sam"].email,
            display_name="Sam",
            role=Role.STAFF,
            password=None,
        )
    async with browser(server) as client:
        ambiguous = await login(client, world["sam"].email)
        assert ambiguous.status_code == 409
        assert {t["slug"] for t in ambiguous.json()["tenants"]} == {world.slug, other_world.slug}
        chosen = await login(client, world["sam"].email, tenant=other_world.slug)
        assert chosen.status_code == 200
        assert chosen.json()["tenant_id"] == str(other_world.tenant_id)
        assert chosen.json()["role"] == "staff"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@b.c"},
        {"email": "a" * 300, "password": "x"},
        {"email": "a@b.c", "password": "x", "extra": 1},
    ],
)
async def test_malformed_sign_ins_are_rejected(
    http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    r = await http.post("/api/v1/auth/token", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
