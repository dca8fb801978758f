"""Organisation settings (who may start a conversation with whom, device storage) and
what `conversation_start` does to opening care conversations."""

from __future__ import annotations

import httpx
import pytest

from tests.support.world import World

GET = "/api/v1/organisation/settings"
PATCH = "/api/v1/admin/organisation/settings"
DEFAULTS = {
    "conversation_start": "any_client",
    "device_storage": True,
    # Unread escalation (tests/notifications/test_escalation_settings.py): off.
    "escalation_hours": None,
    "escalation_admin_hours": None,
    "time_zone": "Europe/London",
    "work_start": "09:00",
    "work_end": "17:00",
    "work_days": [1, 2, 3, 4, 5],
}


@pytest.mark.parametrize("who", ["admin", "sam", "lily", "grace"])
async def test_every_member_reads_the_defaults(
    http: httpx.AsyncClient, world: World, who: str
) -> None:
    got = await http.get(GET, headers=world[who].auth)
    assert got.status_code == 200, got.text
    assert got.json() == DEFAULTS


async def test_an_admin_changes_each_field_alone(http: httpx.AsyncClient, world: World) -> None:
    admin = world["admin"].auth
    changed = await http.patch(PATCH, json={"conversation_start": "care_team"}, headers=admin)
    assert changed.status_code == 204, changed.text
    assert (await http.get(GET, headers=world["sam"].auth)).json() == {
        **DEFAULTS,
        "conversation_start": "care_team",
        "device_storage": True,
    }
    changed = await http.patch(PATCH, json={"device_storage": False}, headers=admin)
    assert changed.status_code == 204, changed.text
    assert (await http.get(GET, headers=world["lily"].auth)).json() == {
        **DEFAULTS,
        "conversation_start": "care_team",
        "device_storage": False,
    }
    # An empty body changes nothing.
    assert (await http.patch(PATCH, json={}, headers=admin)).status_code == 204
    assert (await http.get(GET, headers=admin)).json()["conversation_start"] == "care_team"


@pytest.mark.parametrize(
    "body",
    [
        {"conversation_start": "anyone"},
        {"conversation_start": 1},
        {"device_storage": "no"},
        {"device_storage": 0},
        {"offline": True},
        {"file_mb_per_person_per_day": 5},
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    refused = await http.patch(PATCH, json=body, headers=world["admin"].auth)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await http.get(GET, headers=world["admin"].auth)).json() == DEFAULTS


@pytest.mark.parametrize("who", ["sam", "lily", "grace"])
async def test_only_admins_change_them(http: httpx.AsyncClient, world: World, who: str) -> None:
    refused = await http.patch(
        PATCH, json={"conversation_start": "care_team"}, headers=world[who].auth
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "admin_only"
    assert (await http.get(GET, headers=world["admin"].auth)).json() == DEFAULTS


async def test_each_organisation_keeps_its_own(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    body = {"conversation_start": "care_team", "device_storage": False}
    assert (await http.patch(PATCH, json=body, headers=world["admin"].auth)).status_code == 204
    assert (await http.get(GET, headers=world["sam"].auth)).json() == {**DEFAULTS, **body}
    assert (await http.get(GET, headers=other_world["sam"].auth)).json() == DEFAULTS


async def test_signed_out_is_401(http: httpx.AsyncClient) -> None:
    assert (await http.get(GET)).status_code == 401


async def _open(http: httpx.AsyncClient, world: World, who: str, client: str) -> httpx.Response:
    return await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world[client].account_id)},
        headers=world[who].auth,
    )


async def test_care_team_only_keeps_clinicians_to_their_clients(
    http: httpx.AsyncClient, world: World
) -> None:
    # sam looks after lily, jo after tom (tests/support/world.py). By default either
    # reaches any client.
    assert (await _open(http, world, "jo", "lily")).status_code == 201
    await http.patch(PATCH, json={"conversation_start": "care_team"}, headers=world["admin"].auth)
    refused = await _open(http, world, "sam", "tom")
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "care_team_only"
    assert (await _open(http, world, "sam", "lily")).status_code == 201
    # A conversation that exists already is found, not started: jo keeps hers with lily.
    assert (await _open(http, world, "jo", "lily")).status_code == 200
    # Admins are not held back (they run the support desk).
    assert (await _open(http, world, "admin", "tom")).status_code == 201
    # Clients still reach their care team; nothing else changed for them.
    from_tom = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "staff_id": str(world["jo"].account_id)},
        headers=world["tom"].auth,
    )
    assert from_tom.status_code == 201, from_tom.text
    # Joining the care team is what lets sam start with tom.
    joined = await http.put(
        "/api/v1/admin/care-relationships",
        json={"client_id": str(world["tom"].account_id), "staff_id": str(world["sam"].account_id)},
        headers=world["admin"].auth,
    )
    assert joined.status_code == 200, joined.text
    assert (await _open(http, world, "sam", "tom")).status_code == 201
    listed = (await http.get("/api/v1/conversations", headers=world["sam"].auth)).json()
    assert len(listed["items"]) == 2
