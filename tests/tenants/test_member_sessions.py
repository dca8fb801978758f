"""An admin sees and ends one member's signed-in devices, in their own organisation only."""

from __future__ import annotations

import httpx

from careline.db.tx import Role
from tests.support.server import RunningServer
from tests.support.world import World, join_by_invitation, sign_in


def _sessions(who: object) -> str:
    return f"/api/v1/admin/members/{who}/sessions"


async def test_an_admin_lists_and_revokes_one_device(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    sam = world["sam"]
    phone = await sign_in(server.base_url, sam.email)
    listed = await http.get(_sessions(sam.account_id), headers=world["admin"].auth)
    assert listed.status_code == 200, listed.text
    sessions = listed.json()
    assert len(sessions) == 2
    assert {s["current"] for s in sessions} == {False}
    assert all(s["user_agent"].startswith("python-httpx") for s in sessions)
    # The newest sign-in is the phone: end that one only.
    own = await http.get("/api/v1/auth/sessions", headers={"authorization": f"Bearer {phone}"})
    phone_id = next(s["id"] for s in own.json() if s["current"])
    ended = await http.delete(
        f"{_sessions(sam.account_id)}/{phone_id}", headers=world["admin"].auth
    )
    assert ended.status_code == 204, ended.text
    after = await http.get("/api/v1/me", headers={"authorization": f"Bearer {phone}"})
    assert after.status_code == 401
    assert (await http.get("/api/v1/me", headers=sam.auth)).status_code == 200
    left = (await http.get(_sessions(sam.account_id), headers=world["admin"].auth)).json()
    assert [s["id"] for s in left] != [phone_id]
    assert len(left) == 1
    # Again: that session is gone.
    again = await http.delete(
        f"{_sessions(sam.account_id)}/{phone_id}", headers=world["admin"].auth
    )
    assert again.status_code == 404


async def test_a_session_of_someone_else_is_not_found(
    http: httpx.AsyncClient, world: World
) -> None:
    jo_session = (await http.get("/api/v1/auth/sessions", headers=world["jo"].auth)).json()[0]
    # Named under sam's id, jo's session is not sam's: nothing ends.
    wrong = await http.delete(
        f"{_sessions(world['sam'].account_id)}/{jo_session['id']}", headers=world["admin"].auth
    )
    assert wrong.status_code == 404
    assert (await http.get("/api/v1/me", headers=world["jo"].auth)).status_code == 200


async def test_a_person_in_two_organisations_shows_only_this_ones_sessions(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    in_b = other_world["sam"]
    in_a = await join_by_invitation(
        server.base_url, world["admin"], in_b, name="S. Dual", role=Role.STAFF, slug=world.slug
    )
    seen_by_a = (await http.get(_sessions(in_a.account_id), headers=world["admin"].auth)).json()
    seen_by_b = (
        await http.get(_sessions(in_b.account_id), headers=other_world["admin"].auth)
    ).json()
    own_a = {s["id"] for s in (await http.get("/api/v1/auth/sessions", headers=in_a.auth)).json()}
    own_b = {s["id"] for s in (await http.get("/api/v1/auth/sessions", headers=in_b.auth)).json()}
    assert {s["id"] for s in seen_by_a} == own_a
    assert {s["id"] for s in seen_by_b} == own_b
    assert not own_a & own_b
    # A's admin cannot end the person's session in B, even naming it.
    b_session = next(iter(own_b))
    refused = await http.delete(
        f"{_sessions(in_a.account_id)}/{b_session}", headers=world["admin"].auth
    )
    assert refused.status_code == 404
    assert (await http.get("/api/v1/me", headers=in_b.auth)).status_code == 200
