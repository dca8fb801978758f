"""Your own profile in an organisation: every role renames itself (each organisation
keeps its own name), and nobody else's name changes."""

from __future__ import annotations

import httpx
import pytest

from tests.support.world import World


@pytest.mark.parametrize("who", ["admin", "sam", "lily", "grace"])
async def test_each_role_renames_itself(
    http: httpx.AsyncClient, world: World, other_world: World, who: str
) -> None:
    me = world[who]
    r = await http.patch("/api/v1/me", json={"display_name": "  Renamed Person "}, headers=me.auth)
    assert r.status_code == 204, r.text
    got = await http.get("/api/v1/me", headers=me.auth)
    assert got.json()["display_name"] == "Renamed Person", got.text
    # Everyone else keeps their name, here and in the other organisation.
    people = await http.get("/api/v1/members?limit=50", headers=world["admin"].auth)
    names = {p["account_id"]: p["display_name"] for p in people.json()["items"]}
    expected = {str(p.account_id): p.name for p in world.people.values()}
    expected[str(me.account_id)] = "Renamed Person"
    assert names == expected
    theirs = await http.get("/api/v1/me", headers=other_world[who].auth)
    assert theirs.json()["display_name"] == other_world[who].name, theirs.text


async def test_a_bad_name_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, world: World
) -> None:
    me = world["lily"]
    r = await http.patch("/api/v1/me", json={"display_name": "   "}, headers=me.auth)
    assert r.status_code == 422, r.text
    got = await http.get("/api/v1/me", headers=me.auth)
    assert got.json()["display_name"] == me.name, got.text
