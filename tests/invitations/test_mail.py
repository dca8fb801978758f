"""With SMTP configured, an invitation's link goes by e-mail (never to the admin), and
the e-mail says the organisation's name and the link: nothing about anyone."""

from __future__ import annotations

import asyncio
import re
import uuid
from email.message import EmailMessage

import httpx

from careline.invitations import jobs
from tests.support.smtp import SmtpServer
from tests.support.world import World

CANARY = "Canary Zebrafish"  # the name the admin types; it must not leave careline


def link_in(message: EmailMessage) -> str:
    found = re.findall(r"https?://\S+/invite#\S+", message.get_content())
    assert len(found) == 1, message.get_content()
    return str(found[0])


async def invite_by_mail(http: httpx.AsyncClient, world: World, email: str) -> dict[str, object]:
    response = await http.post(
        "/api/v1/admin/members",
        json={"email": email, "display_name": CANARY, "role": "guardian"},
        headers=world["admin"].auth,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_link_is_emailed_and_holds_only_the_organisation_and_the_link(
    http: httpx.AsyncClient, world: World, relay: SmtpServer
) -> None:
    email = f"pat-{uuid.uuid4().hex[:8]}@example.org"
    created = await invite_by_mail(http, world, email)
    assert created["link"] is None  # e-mailed: the admin never holds the token
    [message] = await relay.inbox.wait_for(1)
    assert message["To"] == email
    link = link_in(message)
    raw = message.as_string()
    assert f"Org {world.slug}" in message["Subject"]
    assert f"Org {world.slug}" in message.get_content()
    for secret in (CANARY, "Canary", "Zebrafish", "Alex Admin", "guardian", world["admin"].email):
        assert secret not in raw, f"{secret!r} leaked into the e-mail"
    # Nothing else but the organisation's name, the link and fixed words.
    words = message.get_content().replace(link, "LINK").replace(f"Org {world.slug}", "ORG")
    assert re.fullmatch(r"[A-Za-z0-9 ,.:;'\n\r-]*LINK[A-Za-z0-9 ,.:;'\n\r-]*", words), words

    for _ in range(200):
        listed = (await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)).json()
        if listed["items"][0]["delivery"] == "sent":
            break
        await asyncio.sleep(0.05)
    assert listed["items"][0]["delivery"] == "sent"
    accepted = await http.post(
        "/api/v1/invitations/accept",
        json={
            "token": link.partition("#")[2],
            "password": "a brand new passphrase",
            "display_name": "Pat",
        },
    )
    assert accepted.status_code == 200, accepted.text


async def test_the_mail_job_run_again_sends_nothing_more(
    http: httpx.AsyncClient, world: World, relay: SmtpServer
) -> None:
    created = await invite_by_mail(http, world, f"pat-{uuid.uuid4().hex[:8]}@example.org")
    [first] = await relay.inbox.wait_for(1)
    invitation_id = str(created["invitation"]["id"])  # type: ignore[index]
    for _ in range(200):
        listed = (await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)).json()
        if listed["items"][0]["delivery"] == "sent":
            break
        await asyncio.sleep(0.05)
    # The same job again, as a retry or a second worker would run it: nothing is sent.
    await jobs.mail_invitation(invitation_id=invitation_id, tenant_id=str(world.tenant_id))
    assert len(relay.inbox.messages) == 1
    still = await http.post(
        "/api/v1/invitations/preview", json={"token": link_in(first).partition("#")[2]}
    )
    assert still.status_code == 200, still.text


async def test_inviting_again_mails_a_new_link_and_the_old_one_stops(
    http: httpx.AsyncClient, world: World, relay: SmtpServer
) -> None:
    email = f"pat-{uuid.uuid4().hex[:8]}@example.org"
    await invite_by_mail(http, world, email)
    [first] = await relay.inbox.wait_for(1)
    await invite_by_mail(http, world, email)
    second = (await relay.inbox.wait_for(2))[1]
    old, new = (link_in(m).partition("#")[2] for m in (first, second))
    assert old != new
    gone = await http.post("/api/v1/invitations/preview", json={"token": old})
    assert (gone.status_code, gone.json()["code"]) == (404, "invitation_not_found")
    ok = await http.post("/api/v1/invitations/preview", json={"token": new})
    assert ok.status_code == 200, ok.text


async def test_an_address_the_relay_refuses_shows_as_failed(
    http: httpx.AsyncClient, world: World, relay: SmtpServer
) -> None:
    relay.inbox.refuse_code = "550 no such mailbox"
    await invite_by_mail(http, world, f"nobody-{uuid.uuid4().hex[:8]}@example.org")
    for _ in range(300):
        listed = (await http.get("/api/v1/admin/invitations", headers=world["admin"].auth)).json()
        if listed["items"][0]["delivery"] != "queued":
            break
        await asyncio.sleep(0.05)
    assert listed["items"][0]["delivery"] == "failed"
    assert relay.inbox.messages == []
