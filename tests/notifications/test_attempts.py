"""Admins see every attempt a channel made in their organisation, without content:
paged newest first, filtered to what did not send; nobody else sees them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.kit.pagination import encode_cursor
from careline.notifications import attempts
from tests.support.world import World


async def _attempts(world: World, outcomes: list[str]) -> None:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        for i, outcome in enumerate(outcomes):
            await attempts.record(
                tx,
                tenant_id=world.tenant_id,
                account_id=world["lily"].account_id,
                notification_id=None,
                channel="push" if i % 2 else "email",
                kind="message",
                outcome=outcome,  # type: ignore[arg-type]
                reason=None if outcome == "sent" else f"push_{400 + i}",
                status=None if outcome == "sent" else 400 + i,
            )


async def test_an_admin_pages_attempts_newest_first_and_filters_failures(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    outcomes = ["sent", "failed", "sent", "removed", "retrying", "refused", "sent"]
    await _attempts(world, outcomes)
    await _attempts(other_world, ["failed"])
    url = "/api/v1/admin/notifications/attempts"
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await http.get(url, params=params, headers=world["admin"].auth)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [a["outcome"] for a in seen] == outcomes[::-1]
    assert {a["account_id"] for a in seen} == {str(world["lily"].account_id)}
    assert set(seen[0]) == {
        "id", "account_id", "notification_id", "channel", "kind", "outcome", "reason",
        "status", "at",
    }  # fmt: skip

    failed = await http.get(url, params={"failed": "true"}, headers=world["admin"].auth)
    assert [a["outcome"] for a in failed.json()["items"]] == [
        "refused", "retrying", "removed", "failed",
    ]  # fmt: skip
    assert failed.json()["items"][0]["reason"] == "push_405"

    theirs = await http.get(url, headers=other_world["admin"].auth)
    assert [a["outcome"] for a in theirs.json()["items"]] == ["failed"]


@pytest.mark.parametrize("who", ["sam", "lily", "grace"])
async def test_only_admins_see_attempts(http: httpx.AsyncClient, world: World, who: str) -> None:
    await _attempts(world, ["failed"])
    got = await http.get("/api/v1/admin/notifications/attempts", headers=world[who].auth)
    assert got.status_code == 403
    assert got.json()["code"] == "admin_only"


async def test_a_forged_cursor_is_a_documented_422(http: httpx.AsyncClient, world: World) -> None:
    got = await http.get(
        "/api/v1/admin/notifications/attempts",
        params={"cursor": "not-ours"},
        headers=world["admin"].auth,
    )
    assert got.status_code == 422
    assert got.json()["code"] == "invalid_cursor"
    # Well formed, but past any attempt's number: still not ours, and never a 5xx.
    beyond = encode_cursor([clock.now().isoformat(), str(uuid.UUID(int=2**127))])
    got = await http.get(
        "/api/v1/admin/notifications/attempts",
        params={"cursor": beyond},
        headers=world["admin"].auth,
    )
    assert (got.status_code, got.json()["code"]) == (422, "invalid_cursor")
