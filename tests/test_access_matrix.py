"""Every endpoint and socket op, tried by everyone who is not a participant — in the
same organisation and in another — answers not found and changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from careline import config
from careline.db.tx import Actor, Role, transaction
from careline.notifications import unsubscribe
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, Persona, World, join_by_invitation
from tests.support.ws import WsError, connect


@dataclass
class Scene:
    care_id: str
    team_id: str
    care_message: str
    team_message: str


async def build_scene(http: httpx.AsyncClient, a: World) -> Scene:
    care = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(a["lily"].account_id)},
        headers=a["sam"].auth,
    )
    team = await http.post(
        "/api/v1/conversations",
        json={"kind": "team", "member_ids": [str(a["jo"].account_id)], "title": "case review"},
        headers=a["sam"].auth,
    )
    assert care.status_code == 201, care.text
    assert team.status_code == 201, team.text
    ids = []
    for conversation in (care.json()["id"], team.json()["id"]):
        sent = await http.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"client_msg_id": "m1", "text": "private note"},
            headers=a["sam"].auth,
        )
        assert sent.status_code == 201, sent.text
        ids.append(sent.json()["id"])
    return Scene(care.json()["id"], team.json()["id"], ids[0], ids[1])


async def snapshot(http: httpx.AsyncClient, a: World, scene: Scene) -> Any:
    """What a participant sees: timelines, messages, receipts, participants."""
    sam = a["sam"].auth
    state = []
    for conversation in (scene.care_id, scene.team_id):
        conv = (await http.get(f"/api/v1/conversations/{conversation}", headers=sam)).json()
        events = (
            await http.get(f"/api/v1/conversations/{conversation}/events", headers=sam)
        ).json()
        messages = (
            await http.get(f"/api/v1/conversations/{conversation}/messages", headers=sam)
        ).json()
        for p in conv["participants"]:
            p.pop("presence")
            p.pop("last_seen_at")
        conv.pop("last_message")
        state.append((conv, events, messages))
    return state


def rest_calls(
    scene: Scene, conversation: str, message: str, someone: uuid.UUID
) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"/api/v1/conversations/{conversation}", None),
        (
            "PATCH",
            f"/api/v1/conversations/{conversation}/me",
            {"archived": True, "muted": True, "notify": "replies"},
        ),
        (
            "POST",
            f"/api/v1/conversations/{conversation}/participants",
            {"account_id": str(someone)},
        ),
        ("DELETE", f"/api/v1/conversations/{conversation}/participants/{someone}", None),
        ("GET", f"/api/v1/conversations/{conversation}/events", None),
        ("GET", f"/api/v1/conversations/{conversation}/messages", None),
        (
            "POST",
            f"/api/v1/conversations/{conversation}/messages",
            {"client_msg_id": "x", "text": "intrude"},
        ),
        ("POST", f"/api/v1/conversations/{conversation}/receipt", {"read_seq": 99}),
        ("GET", f"/api/v1/messages/{message}", None),
        ("PATCH", f"/api/v1/messages/{message}", {"text": "tampered"}),
        ("DELETE", f"/api/v1/messages/{message}", None),
        ("GET", f"/api/v1/messages/{message}/revisions", None),
        ("PUT", f"/api/v1/messages/{message}/reactions/👍", None),
        ("DELETE", f"/api/v1/messages/{message}/reactions/👍", None),
    ]


def socket_ops(conversation: str, message: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "message.send",
            {"conversation_id": conversation, "client_msg_id": "x", "text": "intrude"},
        ),
        ("message.edit", {"message_id": message, "text": "tampered"}),
        ("message.redact", {"message_id": message}),
        ("reaction.add", {"message_id": message, "emoji": "👍"}),
        ("reaction.remove", {"message_id": message, "emoji": "👍"}),
        ("receipt.update", {"conversation_id": conversation, "read_seq": 99}),
        ("typing.start", {"conversation_id": conversation}),
        ("typing.stop", {"conversation_id": conversation}),
        ("visibility.set", {"conversation_id": conversation, "visible": True}),
    ]


# (who, which world, conversations they are NOT in)
OUTSIDERS = [
    ("jo", "a", ["care"]),
    ("tom", "a", ["care", "team"]),
    ("admin", "a", ["care", "team"]),
    ("lily", "a", ["team"]),
    ("grace", "a", ["team"]),
    ("admin", "b", ["care", "team"]),
    ("sam", "b", ["care", "team"]),
    ("lily", "b", ["care", "team"]),
    ("grace", "b", ["care", "team"]),
]


@pytest.mark.parametrize(("who", "where", "kinds"), OUTSIDERS)
async def test_outsiders_get_not_found_everywhere_and_change_nothing(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    other_world: World,
    who: str,
    where: str,
    kinds: list[str],
) -> None:
    scene = await build_scene(http, world)
    before = await snapshot(http, world, scene)
    outsider = (world if where == "a" else other_world)[who]
    targets = {
        "care": (scene.care_id, scene.care_message),
        "team": (scene.team_id, scene.team_message),
    }
    async with connect(server.ws_url, outsider.token) as ws:
        for kind in kinds:
            conversation, message = targets[kind]
            for method, path, body in rest_calls(
                scene, conversation, message, world["jo"].account_id
            ):
                response = await http.request(method, path, json=body, headers=outsider.auth)
                assert response.status_code == 404, (
                    f"{who}@{where} {method} {path}: {response.text}"
                )
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["code"] == "not_found"
            for op, args in socket_ops(conversation, message):
                with pytest.raises(WsError) as caught:
                    await ws.request(op, **args)
                assert caught.value.code == "not_found", f"{who}@{where} {op}: {caught.value.frame}"
            resumed = await ws.request("resume", conversations={conversation: 0})
            assert resumed["conversations"][conversation] == {"status": "not_found"}
        listed = (await http.get("/api/v1/conversations", headers=outsider.auth)).json()["items"]
        assert not {c["id"] for c in listed} & {targets[k][0] for k in kinds}
        # Nothing of the conversation reaches their socket either.
        await http.post(
            f"/api/v1/conversations/{scene.care_id}/messages",
            json={"client_msg_id": "live", "text": "after the probes"},
            headers=world["sam"].auth,
        )
        if "care" in kinds:
            await ws.assert_no_event("message.sent", within=0.3)
    after = await snapshot(http, world, scene)
    # The only change is the message sam sent at the end.
    after[0][1]["items"] = after[0][1]["items"][:-1]
    after[0][1]["last_seq"] -= 1
    after[0][1]["next_after_seq"] -= 1
    after[0][2]["items"] = after[0][2]["items"][:-1]
    # Sending is reading: sam's watermarks moved to that message.
    last = after[0][0]["last_seq"]
    assert (after[0][0]["delivered_seq"], after[0][0]["read_seq"]) == (last, last)
    after[0][0]["delivered_seq"] = before[0][0]["delivered_seq"]
    after[0][0]["read_seq"] = before[0][0]["read_seq"]
    for p, was in zip(after[0][0]["participants"], before[0][0]["participants"], strict=True):
        if p["account_id"] == str(world["sam"].account_id):
            assert (p["delivered_seq"], p["read_seq"]) == (last, last)
            p["delivered_seq"], p["read_seq"] = was["delivered_seq"], was["read_seq"]
    after[0][0]["last_seq"] -= 1
    after[0][0].pop("last_activity_at")
    before[0][0].pop("last_activity_at")
    assert after == before


ADMIN_CALLS = [
    ("GET", "/api/v1/admin/members/{b}", None),
    ("DELETE", "/api/v1/admin/invitations/{b_invitation}", None),
    ("PATCH", "/api/v1/admin/members/{b}", {"disabled": True}),
    ("POST", "/api/v1/admin/members/{b}/revoke-sessions", None),
    ("PUT", "/api/v1/admin/care-relationships", {"client_id": "{b_client}", "staff_id": "{b}"}),
    (
        "PUT",
        "/api/v1/admin/guardian-links",
        {"guardian_id": "{b_guardian}", "client_id": "{b_client}"},
    ),
    ("GET", "/api/v1/admin/members/{b}/sessions", None),
    ("DELETE", "/api/v1/admin/members/{b}/sessions/{b_session}", None),
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


async def test_an_admin_cannot_reach_another_organisations_people(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    names = {
        "b": str(other_world["sam"].account_id),
        "b_client": str(other_world["lily"].account_id),
        "b_guardian": str(other_world["grace"].account_id),
        "b_invitation": await _invitation_in(http, other_world),
        "b_session": await _session_of(http, other_world["sam"]),
    }
    for method, path, body in ADMIN_CALLS:
        response = await http.request(
            method, _fill(path, names), json=_fill(body, names), headers=world["admin"].auth
        )
        assert response.status_code == 404, f"{method} {path}: {response.text}"
    # B's clinician is still enabled and signed in, and B's settings are B's.
    still = await http.get("/api/v1/me", headers=other_world["sam"].auth)
    assert still.status_code == 200
    await http.patch(
        "/api/v1/admin/organisation/settings",
        json={"conversation_start": "care_team", "device_storage": False, "escalation_hours": 2},
        headers=world["admin"].auth,
    )
    b_settings = await http.get("/api/v1/organisation/settings", headers=other_world["admin"].auth)
    assert b_settings.json()["conversation_start"] == "any_client"
    assert b_settings.json()["device_storage"] is True
    assert b_settings.json()["escalation_hours"] is None
    members = (await http.get("/api/v1/members", headers=world["admin"].auth)).json()["items"]
    assert {m["account_id"] for m in members} == {str(p.account_id) for p in world.people.values()}
    # B's invitation is still pending, and A's admin does not see it.
    listed = await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)
    assert listed.json()["items"] == []
    kept = await http.get("/api/v1/admin/invitations", headers=other_world["admin"].auth)
    assert [i["id"] for i in kept.json()["items"]] == [names["b_invitation"]]


async def _session_of(http: httpx.AsyncClient, who: Persona) -> str:
    own = await http.get("/api/v1/auth/sessions", headers=who.auth)
    assert own.status_code == 200, own.text
    session_id: str = own.json()[0]["id"]
    return session_id


async def _invitation_in(http: httpx.AsyncClient, where: World) -> str:
    created = await http.post(
        "/api/v1/admin/members",
        json={"email": f"invitee@{where.slug}.test", "display_name": "Invitee", "role": "staff"},
        headers=where["admin"].auth,
    )
    assert created.status_code == 201, created.text
    invitation_id: str = created.json()["invitation"]["id"]
    return invitation_id


@pytest.mark.parametrize("who", ["sam", "lily", "grace"])
async def test_only_admins_manage_people(http: httpx.AsyncClient, world: World, who: str) -> None:
    names = {
        "b": str(world["jo"].account_id),
        "b_client": str(world["tom"].account_id),
        "b_guardian": str(world["grace"].account_id),
        "b_invitation": await _invitation_in(http, world),
        "b_session": await _session_of(http, world["jo"]),
    }
    calls = [
        *ADMIN_CALLS,
        ("GET", "/api/v1/admin/invitations", None),
        (
            "POST",
            "/api/v1/admin/members",
            {"email": "new@x.test", "display_name": "New", "role": "staff"},
        ),
        ("GET", "/api/v1/admin/settings", None),
        ("PATCH", "/api/v1/admin/settings", {"file_mb_per_person_per_day": 100_000}),
        ("PATCH", "/api/v1/admin/organisation/settings", {"conversation_start": "care_team"}),
        ("PATCH", "/api/v1/admin/organisation/settings", {"escalation_hours": 4}),
        ("GET", "/api/v1/admin/notifications/attempts", None),
        ("GET", "/api/v1/admin/reports/usage?month=2026-03", None),
        ("GET", "/api/v1/admin/reports/engagement?format=csv", None),
        ("GET", "/api/v1/admin/alerts", None),
        ("GET", "/api/v1/admin/monitoring", None),
        ("GET", "/api/v1/admin/audit", None),  # and its exports: tests/audit/test_audit_access.py
        ("POST", "/api/v1/admin/audit/exports", {"format": "csv"}),
    ]
    for method, path, body in calls:
        response = await http.request(
            method, _fill(path, names), json=_fill(body, names), headers=world[who].auth
        )
        assert response.status_code == 403, f"{who} {method} {path}: {response.text}"
        assert response.json()["code"] == "admin_only"
    jo = await http.get(
        f"/api/v1/admin/members/{world['jo'].account_id}", headers=world["admin"].auth
    )
    assert jo.json()["disabled"] is False
    pending = await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)
    assert [i["id"] for i in pending.json()["items"]] == [names["b_invitation"]]
    settings = await http.get("/api/v1/admin/settings", headers=world["admin"].auth)
    assert settings.json()["file_mb_per_person_per_day"] == 1024
    organisation = await http.get("/api/v1/organisation/settings", headers=world[who].auth)
    assert organisation.json()["conversation_start"] == "any_client"
    assert organisation.json()["escalation_hours"] is None
    # jo's session (named by every one of them) is still alive.
    assert (await http.get("/api/v1/me", headers=world["jo"].auth)).status_code == 200


async def test_an_admin_changes_only_their_own_organisations_settings(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    url = "/api/v1/admin/settings"
    body = {"file_mb_per_person_per_day": 7}
    changed = await http.patch(url, json=body, headers=world["admin"].auth)
    assert changed.json() == body, changed.text
    assert (await http.get(url, headers=world["admin"].auth)).json() == body
    other = await http.get(url, headers=other_world["admin"].auth)
    assert other.json() == {"file_mb_per_person_per_day": 1024}


async def test_clients_see_only_their_care_team_and_peers_in_the_directory(
    http: httpx.AsyncClient, world: World
) -> None:
    await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world["lily"].account_id)},
        headers=world["sam"].auth,
    )
    seen = (await http.get("/api/v1/members", headers=world["lily"].auth)).json()["items"]
    names = {m["display_name"] for m in seen}
    # Staff and admins, herself and her guardian; never another client.
    assert names == {"Alex Admin", "Sam Clinician", "Jo Clinician", "Lily Client", "Grace Guardian"}
    assert all(m["email"] is None for m in seen)


# What each persona sees of the care lists, paged a row at a time (so a cursor is
# followed on every list): staff and admins everything of their organisation; a client
# their own care team and guardian; a guardian their clients'; no one another
# organisation's rows, whatever filter they name.
CARE_VIEWS = {
    "admin": ({("lily", "sam"), ("tom", "jo")}, {("grace", "lily")}),
    "sam": ({("lily", "sam"), ("tom", "jo")}, {("grace", "lily")}),
    "lily": ({("lily", "sam")}, {("grace", "lily")}),
    "tom": ({("tom", "jo")}, set()),
    "grace": ({("lily", "sam")}, {("grace", "lily")}),
}


async def _every_page(http: httpx.AsyncClient, path: str, who: Any, **params: str) -> list[Any]:
    items, cursor = [], None
    while True:
        query = {**params, "limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = await http.get(path, params=query, headers=who.auth)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("who", list(CARE_VIEWS))
async def test_each_persona_pages_only_the_care_rows_they_may_see(
    http: httpx.AsyncClient, world: World, other_world: World, who: str
) -> None:
    names = {str(p.account_id): key for key, p in world.people.items()}
    care_seen, links_seen = CARE_VIEWS[who]
    for where, persona in (("a", world[who]), ("b", other_world[who])):
        care = await _every_page(http, "/api/v1/care-relationships", persona)
        links = await _every_page(http, "/api/v1/guardian-links", persona)
        got_care = {(names.get(r["client_id"]), names.get(r["staff_id"])) for r in care}
        got_links = {(names.get(g["guardian_id"]), names.get(g["client_id"])) for g in links}
        if where == "a":
            assert (got_care, got_links) == (care_seen, links_seen), who
        else:  # B's persona of the same name sees B's rows, none of A's
            assert not {i for row in got_care | got_links for i in row} - {None}, who
    # Naming another organisation's people finds nothing.
    for path, key in (
        ("/api/v1/care-relationships", "client_id"),
        ("/api/v1/guardian-links", "client_id"),
    ):
        found = await _every_page(
            http, path, other_world[who], **{key: str(world["lily"].account_id)}
        )
        assert found == [], (who, path)


# A person who belongs to both organisations: sam of B, invited into A and accepted.
# Neither organisation's admin may see or change anything of the other membership.
DUAL_CALLS = [
    ("GET", "/api/v1/admin/members/{dual}/sessions", None),
    ("PATCH", "/api/v1/admin/members/{dual}", {"role": "client"}),
    ("PATCH", "/api/v1/admin/members/{dual}", {"disabled": True}),
    ("POST", "/api/v1/admin/members/{dual}/revoke-sessions", None),
]


async def _membership_of(http: httpx.AsyncClient, admin: Persona, dual: Persona) -> Any:
    got = await http.get(f"/api/v1/admin/members/{dual.account_id}", headers=admin.auth)
    assert got.status_code == 200, got.text
    return got.json()


async def _last_seen_in(http: httpx.AsyncClient, admin: Persona, dual: Persona) -> Any:
    return (await _membership_of(http, admin, dual))["last_seen_at"]


@pytest.mark.parametrize("acting", ["a", "b"])
async def test_a_person_in_two_organisations_is_two_separate_memberships(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World, acting: str
) -> None:
    in_b = other_world["sam"]
    in_a = await join_by_invitation(
        server.base_url, world["admin"], in_b, name="S. Dual", role=Role.STAFF, slug=world.slug
    )
    here, there = (world, other_world) if acting == "a" else (other_world, world)
    dual_here, dual_there = (in_a, in_b) if acting == "a" else (in_b, in_a)
    # Seen in the other organisation only: last seen and presence there, not here.
    async with connect(server.ws_url, dual_there.token):
        for _ in range(50):
            presence = await http.get(
                "/api/v1/presence",
                params={"account_id": [str(dual_here.account_id)]},
                headers=here["admin"].auth,
            )
            assert presence.json()["presence"][str(dual_here.account_id)] == "offline"
            other = await http.get(
                "/api/v1/presence",
                params={"account_id": [str(dual_there.account_id)]},
                headers=there["admin"].auth,
            )
            if other.json()["presence"][str(dual_there.account_id)] == "online":
                break
            await asyncio.sleep(0.05)
        assert other.json()["presence"][str(dual_there.account_id)] == "online"
    for _ in range(100):
        if await _last_seen_in(http, there["admin"], dual_there) is not None:
            break
        await asyncio.sleep(0.05)
    assert await _last_seen_in(http, there["admin"], dual_there) is not None
    seen_here = await _membership_of(http, here["admin"], dual_here)
    assert seen_here["last_seen_at"] is None, seen_here
    # Presence's last seen too: there, not here.
    for admin, dual, seen in (
        (here["admin"], dual_here, False),
        (there["admin"], dual_there, True),
    ):
        presence = await http.get(
            "/api/v1/presence", params={"account_id": [str(dual.account_id)]}, headers=admin.auth
        )
        assert (str(dual.account_id) in presence.json()["last_seen"]) is seen, presence.json()
    # Each admin sees their own organisation's name for the person, never the other's.
    assert seen_here["display_name"] == dual_here.name
    assert dual_there.name not in str(seen_here)
    before_there = await _membership_of(http, there["admin"], dual_there)
    own = await http.get("/api/v1/auth/sessions", headers=dual_here.auth)
    own_here = {x["id"] for x in own.json()}
    assert own_here

    for method, path, body in DUAL_CALLS:
        response = await http.request(
            method,
            path.format(dual=dual_here.account_id),
            json=body,
            headers=here["admin"].auth,
        )
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        if path.endswith("revoke-sessions"):
            assert response.json() == {"revoked": 0}  # only this membership's sessions
        if path.endswith("/sessions"):  # this membership's sessions, never the other's
            assert {x["id"] for x in response.json()} == own_here, response.text
    # The other membership: same role, enabled, its session alive, its name unchanged.
    assert await _membership_of(http, there["admin"], dual_there) == before_there
    still = await http.get("/api/v1/me", headers=dual_there.auth)
    assert still.status_code == 200, still.text
    assert (still.json()["role"], still.json()["display_name"]) == (
        dual_there.role.value,
        dual_there.name,
    )
    listed = (await http.get("/api/v1/members", headers=dual_there.auth)).json()["items"]
    assert {m["account_id"] for m in listed} >= {str(there["admin"].account_id)}
    # And the person renaming themselves in one organisation renames nothing in the other.
    renamed = await http.patch(
        "/api/v1/me", json={"display_name": "Renamed There"}, headers=dual_there.auth
    )
    assert renamed.status_code == 204, renamed.text
    assert (await _membership_of(http, here["admin"], dual_here))["display_name"] == dual_here.name


async def test_the_session_probe_tells_only_whether_and_who_one_is(
    server: RunningServer, world: World, other_world: World
) -> None:
    """GET /api/v1/auth/session answers everyone 200, and shows a person only themself."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        anonymous = await http.get("/api/v1/auth/session")
        assert anonymous.status_code == 200, anonymous.text
        assert anonymous.json() == {"signed_in": False, "me": None}
        malformed = await http.get("/api/v1/auth/session", headers={"authorization": "Basic x"})
        assert malformed.status_code == 401
        assert malformed.json()["code"] == "bad_authorization"
        for who in (world["sam"], world["grace"], other_world["lily"]):
            probe = (await http.get("/api/v1/auth/session", headers=who.auth)).json()
            me = (await http.get("/api/v1/me", headers=who.auth)).json()
            assert probe == {"signed_in": True, "me": me}
            assert me["account_id"] == str(who.account_id)
            assert me["csrf_token"] is None  # a bearer token needs none
        # A cookie session gets its CSRF token, as from /me; once it ends, signed out.
        signed = await http.post(
            "/api/v1/auth/login", json={"email": world["lily"].email, "password": PASSWORD}
        )
        probe = (await http.get("/api/v1/auth/session")).json()
        assert probe["me"]["csrf_token"] == signed.json()["csrf_token"]
        ended = await http.post(
            "/api/v1/auth/logout", headers={"x-csrf-token": signed.json()["csrf_token"]}
        )
        assert ended.status_code == 204
        http.cookies.set("careline_session", signed.cookies["careline_session"])
        after = await http.get("/api/v1/auth/session")
        assert after.status_code == 200
        assert after.json() == {"signed_in": False, "me": None}


async def test_an_unsubscribe_link_changes_only_the_person_and_organisation_it_names(
    server: RunningServer, world: World, other_world: World
) -> None:
    """POST /api/v1/unsubscribe/{token} needs no sign-in, and signing in changes nothing
    of what it does: whoever follows lily's link turns off lily's e-mail in her
    organisation, never their own nor anyone else's."""
    token = unsubscribe.make_token(world.tenant_id, world["lily"].account_id, "email")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        for who in (other_world["admin"], world["sam"], None):
            answer = await http.post(
                f"/api/v1/unsubscribe/{token}", headers=who.auth if who else {}
            )
            assert answer.status_code == 200, answer.text
    async with transaction(Actor.system()) as tx:
        rows = await tx.conn.fetch(
            "SELECT tenant_id, account_id, email FROM notification_preferences"
            " WHERE tenant_id = ANY($1::uuid[])",
            [world.tenant_id, other_world.tenant_id],
        )
    assert [tuple(r) for r in rows] == [(world.tenant_id, world["lily"].account_id, False)]


# Notification preferences: everyone reads and changes only their own, in the
# organisation they act in; only that organisation's admins its defaults.


async def _push_choices(http: httpx.AsyncClient, people: list[Persona]) -> list[Any]:
    got = []
    for who in people:
        response = await http.get("/api/v1/me/notifications", headers=who.auth)
        assert response.status_code == 200, response.text
        got.append(response.json()["push"])
    return got


async def test_notification_preferences_are_each_persons_own_in_each_organisation(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    everyone = [*world.people.values(), *other_world.people.values()]
    for i, who in enumerate(world.people.values()):
        changed = await http.patch(
            "/api/v1/me/notifications", json={"push": False}, headers=who.auth
        )
        assert changed.status_code == 200, changed.text
        expected = [False] * (i + 1) + [None] * (len(everyone) - i - 1)
        assert await _push_choices(http, everyone) == expected, who.key
    # One person in both: their choices in A are not their choices in B.
    in_b = other_world["sam"]
    in_a = await join_by_invitation(
        server.base_url, world["admin"], in_b, name="S. Dual", role=Role.STAFF, slug=world.slug
    )
    await http.patch("/api/v1/me/notifications", json={"digest": "daily"}, headers=in_a.auth)
    here = (await http.get("/api/v1/me/notifications", headers=in_a.auth)).json()
    there = (await http.get("/api/v1/me/notifications", headers=in_b.auth)).json()
    assert (here["digest"], there["digest"]) == ("daily", None)


@pytest.mark.parametrize("who", ["sam", "jo", "lily", "tom", "grace"])
async def test_only_admins_see_and_set_notification_defaults(
    http: httpx.AsyncClient, world: World, other_world: World, who: str
) -> None:
    url = "/api/v1/admin/notifications/defaults"
    for method, body in (("GET", None), ("PATCH", {"clients": {"push": False}})):
        response = await http.request(method, url, json=body, headers=world[who].auth)
        assert response.status_code == 403, f"{who} {method}: {response.text}"
        assert response.json()["code"] == "admin_only"
    untouched = (await http.get(url, headers=world["admin"].auth)).json()
    assert untouched["clients"]["custom"] is False
    # A's admin sets A's defaults; B's stay careline's.
    changed = await http.patch(url, json={"clients": {"push": False}}, headers=world["admin"].auth)
    assert changed.json()["clients"]["push"] is False, changed.text
    b = (await http.get(url, headers=other_world["admin"].auth)).json()
    assert (b["clients"]["push"], b["clients"]["custom"]) == (True, False)
    tom_b = await http.get("/api/v1/me/notifications", headers=other_world["tom"].auth)
    assert tom_b.json()["effective"]["push"] is True


# --- Web push subscriptions (careline/push): a person's own, in one organisation ---

PUSH_CALLS = [
    ("GET", "/api/v1/push/key"),
    ("GET", "/api/v1/push/subscriptions"),
    ("POST", "/api/v1/push/subscriptions"),
    ("DELETE", "/api/v1/push/subscriptions"),
]


@pytest.mark.parametrize(("method", "path"), PUSH_CALLS)
async def test_push_needs_a_session(http: httpx.AsyncClient, method: str, path: str) -> None:
    body = None if method == "GET" else {"endpoint": "https://push.example.com/p", "keys": {}}
    response = await http.request(method, path, json=body)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("who", ["admin", "sam", "jo", "tom", "grace"])
@pytest.mark.parametrize("where", ["same", "other"])
async def test_a_push_subscription_is_its_owners_alone(
    http: httpx.AsyncClient,
    world: World,
    other_world: World,
    push_service: Any,
    who: str,
    where: str,
) -> None:
    from careline.db.tx import Actor, transaction

    lily = world["lily"]
    browser = push_service.subscriber()
    made = await http.post(
        "/api/v1/push/subscriptions", json=browser.subscription(), headers=lily.auth
    )
    assert made.status_code == 201, made.text
    other = (world if where == "same" else other_world)[who]

    gone = await http.request(
        "DELETE",
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint},
        headers=other.auth,
    )
    assert (gone.status_code, gone.json()["code"]) == (404, "push_subscription_not_found")
    listed = await http.get("/api/v1/push/subscriptions", headers=other.auth)
    assert browser.endpoint not in listed.text
    async with transaction(Actor.system(), readonly=True) as tx:
        owners = await tx.conn.fetch(
            "SELECT tenant_id, account_id FROM push_subscriptions WHERE endpoint = $1",
            browser.endpoint,
        )
    assert [(r["tenant_id"], r["account_id"]) for r in owners] == [
        (lily.tenant_id, lily.account_id)
    ]
    # Anyone may subscribe their own browser, in their own organisation only.
    own = push_service.subscriber()
    mine = await http.post(
        "/api/v1/push/subscriptions", json=own.subscription(), headers=other.auth
    )
    assert mine.status_code == 201, mine.text
    async with transaction(Actor.system(), readonly=True) as tx:
        row = await tx.conn.fetchrow(
            "SELECT tenant_id, account_id FROM push_subscriptions WHERE endpoint = $1",
            own.endpoint,
        )
    assert (row["tenant_id"], row["account_id"]) == (other.tenant_id, other.account_id)


# The notification centre: everyone in both organisations has records of their own; each
# person lists, counts and marks only theirs (issue 11).
NOTIFIED = ["admin", "sam", "jo", "lily", "grace"]


@pytest.mark.parametrize(("who", "where"), [(p, w) for p in NOTIFIED for w in ("a", "b")])
async def test_each_person_sees_and_marks_only_their_own_notifications(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    other_world: World,
    who: str,
    where: str,
) -> None:
    records: dict[tuple[str, str], str] = {}
    was: dict[tuple[str, str], str | None] = {}
    for key, w in (("a", world), ("b", other_world)):
        scene = await build_scene(http, w)  # sam writes to lily (and grace) and to jo
        support = await http.post(
            "/api/v1/conversations", json={"kind": "support"}, headers=w["lily"].auth
        )
        await http.post(
            f"/api/v1/conversations/{support.json()['id']}/messages",
            json={"client_msg_id": "s1", "text": "to the desk"},
            headers=w["lily"].auth,
        )
        await http.post(
            f"/api/v1/conversations/{scene.care_id}/messages",
            json={"client_msg_id": "r1", "text": "a reply"},
            headers=w["lily"].auth,
        )
        for person in NOTIFIED:
            page = await http.get("/api/v1/notifications", headers=w[person].auth)
            [record] = page.json()["items"][:1]
            records[(person, key)] = record["id"]
            was[(person, key)] = record["read_at"]
    me = (world if where == "a" else other_world)[who]
    mine = records[(who, where)]
    listed = (await http.get("/api/v1/notifications", headers=me.auth)).json()["items"]
    assert {r["id"] for r in listed} & set(records.values()) == {mine}
    others = [i for k, i in records.items() if k != (who, where)]
    for other in others:
        response = await http.post(
            "/api/v1/notifications/read", json={"ids": [other]}, headers=me.auth
        )
        assert response.status_code == 404, f"{who}@{where}: {response.text}"
        assert response.json()["code"] == "not_found"
    async with connect(server.ws_url, me.token) as ws:
        assert [r["id"] for r in ws.resumed["notifications"]["items"]] == [r["id"] for r in listed]
        with pytest.raises(WsError) as caught:
            await ws.request("notifications.read", ids=others)
        assert caught.value.code == "not_found"
        # Marking all of one's own touches nobody else's.
        await ws.request("notifications.read", all=True)
    for (person, key), record in records.items():
        w = world if key == "a" else other_world
        page = (await http.get("/api/v1/notifications", headers=w[person].auth)).json()
        [found] = [r for r in page["items"] if r["id"] == record]
        if (person, key) == (who, where):
            assert found["read_at"] is not None
        else:
            assert found["read_at"] == was[(person, key)], (person, key)


@pytest.mark.parametrize("who", ["admin", "sam", "lily", "grace"])
@pytest.mark.parametrize("path", ["/metrics", "/health/detailed"])
async def test_metrics_and_detailed_health_answer_only_the_metrics_token(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    other_world: World,
    who: str,
    path: str,
) -> None:
    """No session opens them, an admin's of either organisation included: without a
    metrics token configured they are not there (404); with one, a session is not it
    (401). They are the operator's (careline/monitoring/api.py)."""
    for w in (world, other_world):
        response = await http.get(path, headers=w[who].auth)
        assert response.status_code == 404, f"{who} {path}: {response.text}"
    config.use(server.settings.model_copy(update={"metrics_token": SecretStr(uuid.uuid4().hex)}))
    try:
        for w in (world, other_world):
            response = await http.get(path, headers=w[who].auth)
            assert response.status_code == 401, f"{who} {path}: {response.text}"
            assert response.json()["code"] == "metrics_token_required"
    finally:
        config.use(server.settings)


# Break-glass (careline/breakglass): only the organisation's admins intervene, and only
# in their own organisation; another organisation's conversation is not found.
def _breakglass_calls(conversation: str, someone: uuid.UUID) -> list[tuple[str, str, Any]]:
    base = "/api/v1/admin/conversations"
    why = {"reason": "checking access"}
    return [
        ("GET", base, None),
        ("GET", f"{base}/{conversation}/participants", None),
        ("POST", f"{base}/{conversation}/freeze", why),
        ("POST", f"{base}/{conversation}/unfreeze", why),
        ("POST", f"{base}/{conversation}/participants/{someone}/remove", why),
        ("POST", f"{base}/{conversation}/access", why),
        ("GET", f"{base}/{conversation}/access", None),
        ("DELETE", f"{base}/{conversation}/access", None),
        ("GET", f"{base}/{conversation}/messages", None),
    ]


@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("sam", "a"),
        ("lily", "a"),
        ("grace", "a"),
        ("sam", "b"),
        ("lily", "b"),
        ("admin", "b"),
    ],
)
async def test_only_the_organisations_admins_intervene(
    http: httpx.AsyncClient, world: World, other_world: World, who: str, where: str
) -> None:
    scene = await build_scene(http, world)
    caller = (world if where == "a" else other_world)[who]
    before = await snapshot(http, world, scene)
    for method, path, body in _breakglass_calls(scene.care_id, world["grace"].account_id):
        response = await http.request(method, path, json=body, headers=caller.auth)
        if who != "admin":
            assert (response.status_code, response.json()["code"]) == (403, "admin_only"), path
        elif path.endswith("/conversations"):
            assert scene.care_id not in [i["id"] for i in response.json()["items"]]
        else:
            assert response.status_code == 404, (method, path, response.text)
    assert await snapshot(http, world, scene) == before
