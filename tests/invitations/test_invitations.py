"""Adding a person is an invitation: the admin learns nothing about accounts outside
their organisation, and nobody joins an organisation without saying yes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from careline import config
from careline.db.tx import Actor, transaction
from careline.kit.pagination import encode_cursor
from tests.support.world import PASSWORD, Persona, World

NEW_PASSWORD = "a brand new passphrase"


async def invite(
    http: httpx.AsyncClient, admin: Persona, email: str, name: str = "Pat Newcomer"
) -> dict[str, Any]:
    response = await http.post(
        "/api/v1/admin/members",
        json={"email": email, "display_name": name, "role": "staff"},
        headers=admin.auth,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def token_of(created: dict[str, Any]) -> str:
    link: str = created["link"]
    assert "/invite#" in link, link
    return link.partition("#")[2]


def _shape(created: dict[str, Any]) -> dict[str, Any]:
    """The answer without what differs between any two invitations."""
    invitation = dict(created["invitation"])
    for varying in ("id", "email", "created_at", "expires_at"):
        invitation.pop(varying)
    return {"invitation": invitation, "link": created["link"] is not None}


async def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    known = other_world["sam"]
    to_known = await invite(http, world["admin"], known.email, name="Pat Newcomer")
    to_unknown = await invite(http, world["admin"], f"nobody-{uuid.uuid4().hex}@x.test")
    assert _shape(to_known) == _shape(to_unknown)
    assert to_known["invitation"]["display_name"] == "Pat Newcomer"  # what the admin typed
    assert to_known["invitation"]["state"] == "pending"
    assert "Sam Clinician" not in str(to_known)
    # Nothing joined: the member is not in the organisation until they accept ...
    got = await http.get(f"/api/v1/admin/members/{known.account_id}", headers=world["admin"].auth)
    assert got.status_code == 404, got.text
    listed = (await http.get("/api/v1/members", headers=world["admin"].auth)).json()["items"]
    assert str(known.account_id) not in {m["account_id"] for m in listed}
    # ... and their sign-in does not list it (no choice of organisation to make).
    signed = await http.post(
        "/api/v1/auth/token", json={"email": known.email, "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["tenant_id"] == str(other_world.tenant_id)


async def test_an_admin_cannot_set_a_password_for_someone(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    response = await http.post(
        "/api/v1/admin/members",
        json={
            "email": other_world["sam"].email,
            "display_name": "Sam",
            "role": "staff",
            "password": "attacker's choice 123",
        },
        headers=world["admin"].auth,
    )
    assert response.status_code == 422, response.text
    pending = await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)
    assert pending.json()["items"] == []


async def test_a_new_person_accepts_through_the_link_once(
    http: httpx.AsyncClient, world: World
) -> None:
    email = f"pat-{uuid.uuid4().hex[:8]}@{world.slug}.test"
    created = await invite(http, world["admin"], email)
    token = token_of(created)
    preview = await http.post("/api/v1/invitations/preview", json={"token": token})
    assert preview.status_code == 200, preview.text
    assert preview.json()["tenant_name"] == f"Org {world.slug}"
    pending = (await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)).json()
    assert [i["email"] for i in pending["items"]] == [email]

    async with httpx.AsyncClient(base_url=str(http.base_url)) as browser:
        accepted = await browser.post(
            "/api/v1/invitations/accept",
            json={"token": token, "password": NEW_PASSWORD, "display_name": "Pat Shah"},
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == "staff"
        me = await browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert (me.json()["display_name"], me.json()["tenant_id"]) == (
            "Pat Shah",
            str(world.tenant_id),
        )
    again = await http.post(
        "/api/v1/invitations/accept",
        json={"token": token, "password": NEW_PASSWORD, "display_name": "Someone Else"},
    )
    assert again.status_code == 410, again.text
    assert again.json()["code"] == "invitation_used"
    pending = (await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)).json()
    assert pending["items"] == []
    signed = await http.post("/api/v1/auth/token", json={"email": email, "password": NEW_PASSWORD})
    assert signed.status_code == 200, signed.text


async def test_the_link_never_takes_over_an_existing_account(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    sam = other_world["sam"]
    token = token_of(await invite(http, world["admin"], sam.email, name="S. Dual"))
    takeover = await http.post(
        "/api/v1/invitations/accept",
        json={"token": token, "password": "the admin's choice!", "display_name": "Sam"},
    )
    assert takeover.status_code == 409, takeover.text
    assert takeover.json()["code"] == "account_exists"
    wrong = await http.post(
        "/api/v1/invitations/accept", json={"token": token, "password": "not sam's password"}
    )
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["code"] == "invalid_credentials"
    # Sam's own password still works, and only it.
    still = await http.post("/api/v1/auth/token", json={"email": sam.email, "password": PASSWORD})
    assert still.status_code == 200, still.text
    accepted = await http.post(
        "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    member = await http.get(f"/api/v1/admin/members/{sam.account_id}", headers=world["admin"].auth)
    assert member.json()["display_name"] == "S. Dual", member.text  # the admin's name for sam
    choose = await http.post("/api/v1/auth/token", json={"email": sam.email, "password": PASSWORD})
    assert choose.status_code == 409, choose.text
    assert {t["slug"] for t in choose.json()["tenants"]} == {world.slug, other_world.slug}


async def test_a_signed_in_person_sees_accepts_and_declines_their_invitations(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    sam = other_world["sam"]
    await invite(http, world["admin"], sam.email, name="S. Dual")
    await invite(http, other_world["admin"], world["jo"].email, name="Jo Visiting")
    mine = await http.get("/api/v1/invitations", headers=sam.auth)
    assert mine.status_code == 200, mine.text
    assert [(o["tenant_slug"], o["display_name"]) for o in mine.json()] == [(world.slug, "S. Dual")]
    # Someone else cannot accept sam's invitation, nor see it.
    offer = mine.json()[0]["id"]
    for intruder in (world["jo"], other_world["lily"], world["admin"]):
        stolen = await http.post(f"/api/v1/invitations/{offer}/accept", headers=intruder.auth)
        assert stolen.status_code == 404, stolen.text
    accepted = await http.post(f"/api/v1/invitations/{offer}/accept", headers=sam.auth)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["tenant_slug"] == world.slug
    assert (await http.get("/api/v1/invitations", headers=sam.auth)).json() == []
    got = await http.get(f"/api/v1/admin/members/{sam.account_id}", headers=world["admin"].auth)
    assert got.status_code == 200, got.text

    jo_offers = (await http.get("/api/v1/invitations", headers=world["jo"].auth)).json()
    declined = await http.post(
        f"/api/v1/invitations/{jo_offers[0]['id']}/decline", headers=world["jo"].auth
    )
    assert declined.status_code == 204, declined.text
    pending = await http.get("/api/v1/admin/invitations", headers=other_world["admin"].auth)
    assert pending.json()["items"] == []
    gone = await http.get(
        f"/api/v1/admin/members/{world['jo'].account_id}", headers=other_world["admin"].auth
    )
    assert gone.status_code == 404


async def _expire(tenant_id: uuid.UUID, email: str) -> None:
    async with transaction(Actor.system(tenant_id)) as tx:
        await tx.conn.execute(
            "UPDATE invitations SET expires_at = now() - interval '1 second' "
            "WHERE lower(email) = lower($1)",
            email,
        )


async def test_expired_revoked_and_replaced_links_say_why(
    http: httpx.AsyncClient, world: World
) -> None:
    admin = world["admin"]
    body = {"password": NEW_PASSWORD, "display_name": "Pat"}
    revoked_email = f"r-{uuid.uuid4().hex[:8]}@x.test"
    revoked = await invite(http, admin, revoked_email)
    gone = await http.delete(
        f"/api/v1/admin/invitations/{revoked['invitation']['id']}", headers=admin.auth
    )
    assert gone.status_code == 204, gone.text
    answer = await http.post(
        "/api/v1/invitations/accept", json={"token": token_of(revoked), **body}
    )
    assert (answer.status_code, answer.json()["code"]) == (410, "invitation_revoked")

    expired_email = f"e-{uuid.uuid4().hex[:8]}@x.test"
    expired = await invite(http, admin, expired_email)
    await _expire(world.tenant_id, expired_email)
    listed = (await http.get("/api/v1/admin/invitations", headers=admin.auth)).json()["items"]
    assert [i["expired"] for i in listed] == [True]
    answer = await http.post(
        "/api/v1/invitations/accept", json={"token": token_of(expired), **body}
    )
    assert (answer.status_code, answer.json()["code"]) == (410, "invitation_expired")

    # Inviting again replaces the token: the old link stops, the new one works.
    renewed = await invite(http, admin, expired_email, name="Pat Renewed")
    assert renewed["invitation"]["id"] == expired["invitation"]["id"]
    old = await http.post("/api/v1/invitations/accept", json={"token": token_of(expired), **body})
    assert (old.status_code, old.json()["code"]) == (404, "invitation_not_found")
    new = await http.post("/api/v1/invitations/accept", json={"token": token_of(renewed), **body})
    assert new.status_code == 200, new.text
    for token in ("", "x" * 201):
        bad = await http.post("/api/v1/invitations/accept", json={"token": token, **body})
        assert bad.status_code == 422, bad.text


async def test_inviting_a_member_of_this_organisation_is_a_conflict(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await http.post(
        "/api/v1/admin/members",
        json={"email": world["jo"].email.upper(), "display_name": "Jo", "role": "admin"},
        headers=world["admin"].auth,
    )
    assert (response.status_code, response.json()["code"]) == (409, "already_member")


async def test_pending_invitations_page_by_cursor(http: httpx.AsyncClient, world: World) -> None:
    for n in range(3):
        await invite(http, world["admin"], f"p{n}-{uuid.uuid4().hex[:6]}@x.test", name=f"P {n}")
    first = await http.get(
        "/api/v1/admin/invitations", params={"limit": 2}, headers=world["admin"].auth
    )
    assert [i["display_name"] for i in first.json()["items"]] == ["P 2", "P 1"], first.text
    rest = await http.get(
        "/api/v1/admin/invitations",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=world["admin"].auth,
    )
    assert [i["display_name"] for i in rest.json()["items"]] == ["P 0"], rest.text
    assert rest.json()["next_cursor"] is None
    for forged in (
        encode_cursor(["not a time", "x"]),
        encode_cursor(["2026-01-01", str(uuid.uuid4())]),
    ):
        bad = await http.get(
            "/api/v1/admin/invitations", params={"cursor": forged}, headers=world["admin"].auth
        )
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor"), bad.text


async def test_an_admin_past_the_invitation_budget_is_refused_and_nothing_is_made(
    http: httpx.AsyncClient, world: World
) -> None:
    """Each invitation may send an e-mail: an admin's account (or someone who took it
    over) cannot make careline flood inboxes."""
    saved = config.current()
    config.use(saved.model_copy(update={"budget_invitations": "2/minute"}))
    try:
        for n in range(2):
            await invite(http, world["admin"], f"b{n}-{uuid.uuid4().hex[:6]}@x.test")
        over = await http.post(
            "/api/v1/admin/members",
            json={
                "email": f"b2-{uuid.uuid4().hex[:6]}@x.test",
                "display_name": "B",
                "role": "staff",
            },
            headers=world["admin"].auth,
        )
    finally:
        config.use(saved)
    assert over.status_code == 429, over.text
    body = over.json()
    assert (body["code"], body["budget"]) == ("rate_limited", "invitations"), body
    assert int(over.headers["retry-after"]) == body["retry_after"] >= 1
    pending = await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)
    assert len(pending.json()["items"]) == 2, pending.text
