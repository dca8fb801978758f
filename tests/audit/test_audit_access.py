"""Only an organisation's admins read its audit and its exports: staff, clients and
guardians are refused everywhere, and another organisation's admin sees nothing of it."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from tests.audit.page_support import record
from tests.realtime.test_live import open_care
from tests.support.world import World

AUDIT = "/api/v1/admin/audit"
EXPORTS = f"{AUDIT}/exports"


async def _finished_export(http: httpx.AsyncClient, world: World) -> str:
    asked = await http.post(EXPORTS, json={"format": "csv"}, headers=world["admin"].auth)
    assert asked.status_code == 202, asked.text
    export_id: str = asked.json()["id"]
    deadline = time.monotonic() + 60
    while (await http.get(f"{EXPORTS}/{export_id}", headers=world["admin"].auth)).json()[
        "state"
    ] != "done":
        assert time.monotonic() < deadline, "the export job never finished"
        await asyncio.sleep(0.05)  # a poll: it ends as soon as the job has written it
    return export_id


def _calls(export_id: str, client_id: uuid.UUID) -> list[tuple[str, str, object]]:
    return [
        ("GET", AUDIT, None),
        ("GET", f"{AUDIT}?client={client_id}", None),
        ("POST", EXPORTS, {"format": "json"}),
        ("GET", f"{EXPORTS}/{export_id}", None),
        ("GET", f"{EXPORTS}/{export_id}/download", None),
    ]


@pytest.mark.parametrize("who", ["sam", "jo", "lily", "grace"])
async def test_only_admins_read_the_audit(http: httpx.AsyncClient, world: World, who: str) -> None:
    export_id = await _finished_export(http, world)
    for method, path, body in _calls(export_id, world["lily"].account_id):
        response = await http.request(method, path, json=body, headers=world[who].auth)
        assert response.status_code == 403, f"{who} {method} {path}: {response.text}"
        assert response.json()["code"] == "admin_only"
    # Nothing was downloaded, and no export was asked for, by anyone but the admin.
    trail = await http.get(AUDIT, params={"category": "access"}, headers=world["admin"].auth)
    assert {(i["action"], i["actor_name"]) for i in trail.json()["items"]} <= {
        ("export.created", "Alex Admin"),
        ("audit.read", "Alex Admin"),
    }


async def test_another_organisations_admin_sees_nothing(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    care = uuid.UUID(await open_care(http, world))
    await record(world["sam"], "conversation.history_read", conversation_id=care)
    export_id = await _finished_export(http, world)
    [sams] = (
        await http.get(AUDIT, params={"conversation_id": str(care)}, headers=world["admin"].auth)
    ).json()["items"]
    stranger = other_world["admin"].auth
    theirs = await http.get(AUDIT, headers=stranger)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["items"] == []
    for params in (
        {"conversation_id": str(care)},
        {"actor_id": str(world["sam"].account_id)},
    ):
        found = await http.get(AUDIT, params=params, headers=stranger)
        assert found.json()["items"] == [], params
    for path in (
        f"{AUDIT}?client={world['lily'].account_id}",
        f"{EXPORTS}/{export_id}",
        f"{EXPORTS}/{export_id}/download",
    ):
        response = await http.get(path, headers=stranger)
        assert response.status_code == 404, f"{path}: {response.text}"
    # Their own export holds none of the first organisation's events.
    own = await _finished_export(http, other_world)
    got = await http.get(f"{EXPORTS}/{own}/download", headers=stranger)
    # (Their own searches are there, with the ids they searched for.)
    assert sams["id"] not in got.text
    assert str(world["sam"].account_id) not in got.text
    # And the first organisation's audit shows no download by the stranger.
    mine = await http.get(
        AUDIT, params={"action": "export.downloaded"}, headers=world["admin"].auth
    )
    assert mine.json()["items"] == []
