"""What the audit records of changes: every admin change (and a participant added to a
team conversation) as one event naming the person it is about, none when refused or
rolled back, none for careline setting up an organisation; key rotation by careline."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from careline.audit.records import DetailValue
from careline.db.tx import Role, transaction
from careline.tenants import service as tenant_service
from tests.audit.support import assert_by, audit_events, client
from tests.support.server import RunningServer
from tests.support.world import Persona, World

_ALREADY = True  # the organisation's device_storage at creation (checked in the test)


@dataclass
class Change:
    """One event a change is expected to record."""

    action: str
    subject: uuid.UUID | None = None
    object_id: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    detail: dict[str, DetailValue] = field(default_factory=dict)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def invite(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin = world["admin"]
    body = _ok(
        await http.post(
            "/api/v1/admin/members",
            json={"email": "new@example.test", "display_name": "New Person", "role": "staff"},
            headers=admin.auth,
        )
    )
    invitation_id = uuid.UUID(body["invitation"]["id"])
    return admin, [Change("member.invited", object_id=invitation_id, detail={"role": "staff"})]


async def revoke_invitation(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, [invited] = await invite(http, world)
    _ok(await http.delete(f"/api/v1/admin/invitations/{invited.object_id}", headers=admin.auth))
    return admin, [invited, Change("invitation.revoked", object_id=invited.object_id)]


async def change_role(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, jo = world["admin"], world["jo"]
    _ok(
        await http.patch(
            f"/api/v1/admin/members/{jo.account_id}", json={"role": "admin"}, headers=admin.auth
        )
    )
    return admin, [
        Change(
            "member.role_changed",
            subject=jo.account_id,
            detail={"from_role": "staff", "to_role": "admin"},
        )
    ]


async def disable(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, jo = world["admin"], world["jo"]
    _ok(
        await http.patch(
            f"/api/v1/admin/members/{jo.account_id}", json={"disabled": True}, headers=admin.auth
        )
    )
    # Disabling ends the member's sessions too (the world signed jo in once).
    return admin, [
        Change("member.disabled", subject=jo.account_id),
        Change("session.revoked", subject=jo.account_id, detail={"count": 1}),
    ]


async def enable(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, before = await disable(http, world)
    jo = world["jo"]
    _ok(
        await http.patch(
            f"/api/v1/admin/members/{jo.account_id}", json={"disabled": False}, headers=admin.auth
        )
    )
    return admin, [*before, Change("member.enabled", subject=jo.account_id)]


async def revoke_sessions(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, tom = world["admin"], world["tom"]
    body = _ok(
        await http.post(
            f"/api/v1/admin/members/{tom.account_id}/revoke-sessions", headers=admin.auth
        )
    )
    assert body == {"revoked": 1}
    return admin, [Change("session.revoked", subject=tom.account_id, detail={"count": 1})]


async def revoke_one_session(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, tom = world["admin"], world["tom"]
    [session] = _ok(
        await http.get(f"/api/v1/admin/members/{tom.account_id}/sessions", headers=admin.auth)
    )
    _ok(
        await http.delete(
            f"/api/v1/admin/members/{tom.account_id}/sessions/{session['id']}", headers=admin.auth
        )
    )
    return admin, [
        Change(
            "session.revoked",
            subject=tom.account_id,
            object_id=uuid.UUID(session["id"]),
            detail={"count": 1},
        )
    ]


async def assign_care(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, tom, sam = world["admin"], world["tom"], world["sam"]
    _ok(
        await http.put(
            "/api/v1/admin/care-relationships",
            json={
                "client_id": str(tom.account_id),
                "staff_id": str(sam.account_id),
                "is_primary": True,
            },
            headers=admin.auth,
        )
    )
    return admin, [
        Change(
            "care.assigned",
            subject=tom.account_id,
            object_id=sam.account_id,
            detail={"primary": True},
        )
    ]


async def unassign_care(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, lily, sam = world["admin"], world["lily"], world["sam"]
    _ok(
        await http.post(
            "/api/v1/admin/care-relationships/delete",
            json={"client_id": str(lily.account_id), "staff_id": str(sam.account_id)},
            headers=admin.auth,
        )
    )
    return admin, [Change("care.unassigned", subject=lily.account_id, object_id=sam.account_id)]


async def link_guardian(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, grace, tom = world["admin"], world["grace"], world["tom"]
    _ok(
        await http.put(
            "/api/v1/admin/guardian-links",
            json={"guardian_id": str(grace.account_id), "client_id": str(tom.account_id)},
            headers=admin.auth,
        )
    )
    return admin, [Change("guardian.linked", subject=tom.account_id, object_id=grace.account_id)]


async def unlink_guardian(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin, grace, lily = world["admin"], world["grace"], world["lily"]
    _ok(
        await http.post(
            "/api/v1/admin/guardian-links/delete",
            json={"guardian_id": str(grace.account_id), "client_id": str(lily.account_id)},
            headers=admin.auth,
        )
    )
    return admin, [Change("guardian.unlinked", subject=lily.account_id, object_id=grace.account_id)]


async def organisation_settings(
    http: httpx.AsyncClient, world: World
) -> tuple[Persona, list[Change]]:
    admin = world["admin"]
    _ok(
        await http.patch(
            "/api/v1/admin/organisation/settings",
            # device_storage as it already is: only what changed is recorded.
            json={"conversation_start": "care_team", "device_storage": _ALREADY},
            headers=admin.auth,
        )
    )
    return admin, [Change("tenant.settings_changed", detail={"setting": "conversation_start"})]


async def escalation_settings(
    http: httpx.AsyncClient, world: World
) -> tuple[Persona, list[Change]]:
    admin = world["admin"]
    _ok(
        await http.patch(
            "/api/v1/admin/organisation/settings",
            json={"work_days": [1, 2, 3], "escalation_hours": 6},
            headers=admin.auth,
        )
    )
    return admin, [
        Change("tenant.settings_changed", detail={"setting": "escalation.hours"}),
        Change("tenant.settings_changed", detail={"setting": "escalation.work_days"}),
    ]


async def file_settings(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    admin = world["admin"]
    _ok(
        await http.patch(
            "/api/v1/admin/settings", json={"file_mb_per_person_per_day": 7}, headers=admin.auth
        )
    )
    return admin, [
        Change("tenant.settings_changed", detail={"setting": "file_mb_per_person_per_day"})
    ]


async def notification_defaults(
    http: httpx.AsyncClient, world: World
) -> tuple[Persona, list[Change]]:
    admin = world["admin"]
    _ok(
        await http.patch(
            "/api/v1/admin/notifications/defaults",
            json={"staff": {"email": False}, "clients": {"digest": "daily", "push": True}},
            headers=admin.auth,
        )
    )
    # clients' push was on already: not a change.
    return admin, [
        Change("notifications.defaults_changed", detail={"setting": "staff.email"}),
        Change("notifications.defaults_changed", detail={"setting": "clients.digest"}),
    ]


async def add_participant(http: httpx.AsyncClient, world: World) -> tuple[Persona, list[Change]]:
    sam, jo, admin = world["sam"], world["jo"], world["admin"]
    team = _ok(
        await http.post(
            "/api/v1/conversations",
            json={"kind": "team", "member_ids": [str(jo.account_id)], "title": "Team"},
            headers=sam.auth,
        )
    )
    _ok(
        await http.post(
            f"/api/v1/conversations/{team['id']}/participants",
            json={"account_id": str(admin.account_id)},
            headers=sam.auth,
        )
    )
    return sam, [
        Change(
            "participant.added",
            subject=admin.account_id,
            conversation_id=uuid.UUID(team["id"]),
        )
    ]


CHANGES: dict[
    str, Callable[[httpx.AsyncClient, World], Awaitable[tuple[Persona, list[Change]]]]
] = {
    "invite": invite,
    "revoke invitation": revoke_invitation,
    "change role": change_role,
    "disable": disable,
    "enable": enable,
    "revoke sessions": revoke_sessions,
    "revoke one session": revoke_one_session,
    "assign care": assign_care,
    "unassign care": unassign_care,
    "link guardian": link_guardian,
    "unlink guardian": unlink_guardian,
    "organisation settings": organisation_settings,
    "escalation settings": escalation_settings,
    "file settings": file_settings,
    "notification defaults": notification_defaults,
    "add participant": add_participant,
}


@pytest.mark.parametrize("kind", list(CHANGES))
async def test_each_change_records_its_events(
    kind: str, server: RunningServer, world: World, other_world: World
) -> None:
    async with transaction(world["admin"].actor) as tx:
        assert (await tenant_service.get_organisation_settings(tx)).device_storage is _ALREADY
    async with client(server.base_url) as http:
        who, expected = await CHANGES[kind](http, world)
    events = await audit_events(world.tenant_id)
    got = [
        Change(
            e["action"],
            subject=e["subject_account_id"],
            object_id=e["object_id"],
            conversation_id=e["conversation_id"],
            detail=e["detail"],
        )
        for e in events
    ]
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    for event in events:
        assert_by(event, who)
    assert await audit_events(other_world.tenant_id) == []


async def test_a_fresh_organisation_has_no_events(world: World) -> None:
    """careline setting up an organisation (here the tests' world: members, care teams,
    a guardian link, as the system) is nobody's change."""
    assert await audit_events(world.tenant_id) == []


async def test_a_refused_change_records_nothing(
    server: RunningServer, world: World, other_world: World
) -> None:
    async with client(server.base_url) as http:
        lily, sam, jo = world["lily"], world["sam"], world["jo"]
        outsider = other_world["admin"]
        attempts = [
            # Not an admin.
            (sam, "PATCH", f"/api/v1/admin/members/{jo.account_id}", {"role": "admin"}),
            (
                sam,
                "PUT",
                "/api/v1/admin/guardian-links",
                {
                    "guardian_id": str(world["grace"].account_id),
                    "client_id": str(world["tom"].account_id),
                },
            ),
            (sam, "PATCH", "/api/v1/admin/settings", {"file_mb_per_person_per_day": 7}),
            (lily, "POST", f"/api/v1/admin/members/{jo.account_id}/revoke-sessions", None),
            # Another organisation's admin: nobody of theirs.
            (outsider, "PATCH", f"/api/v1/admin/members/{jo.account_id}", {"disabled": True}),
            (outsider, "POST", f"/api/v1/admin/members/{jo.account_id}/revoke-sessions", None),
            (
                outsider,
                "PUT",
                "/api/v1/admin/care-relationships",
                {
                    "client_id": str(lily.account_id),
                    "staff_id": str(jo.account_id),
                    "is_primary": False,
                },
            ),
            # An admin refused by the rules: demoting themselves.
            (
                world["admin"],
                "PATCH",
                f"/api/v1/admin/members/{world['admin'].account_id}",
                {"role": "staff"},
            ),
        ]
        for who, method, path, body in attempts:
            response = await http.request(method, path, json=body, headers=who.auth)
            assert 400 <= response.status_code < 500, (path, response.text)
    assert await audit_events(world.tenant_id) == []
    assert await audit_events(other_world.tenant_id) == []


async def test_a_change_that_rolls_back_records_nothing(world: World) -> None:
    jo = world["jo"]
    with pytest.raises(RuntimeError):
        async with transaction(world["admin"].actor) as tx:
            await tenant_service.do_update_member(tx, jo.account_id, role=Role.ADMIN, disabled=None)
            raise RuntimeError("the request fails after the change")
    assert await audit_events(world.tenant_id) == []
    async with transaction(world["admin"].actor) as tx:
        assert (await tenant_service.get_member(tx, jo.account_id)).role is Role.STAFF


async def test_key_rotation_is_recorded_for_every_organisation(
    server: RunningServer, world: World, other_world: World
) -> None:
    env = {
        **os.environ,
        "CARELINE_DATA_DIR": str(server.settings.data_dir),
        "CARELINE_DATABASE_DURABLE": "false",
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "careline"),
        "keys",
        "rotate",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    for tenant in (world, other_world):
        (event,) = await audit_events(tenant.tenant_id)
        version = int(out.decode().split(f"{tenant.tenant_id}: now version ")[1].split()[0])
        assert event["action"] == "keys.rotated"
        assert event["actor_role"] == "system"
        assert event["actor_account_id"] is None
        assert event["source"] is None
        assert event["user_agent"] is None
        assert event["detail"] == {"version": version}
