"""Invitations in a real browser: the invite page for a new account and for an existing
one, and a signed-in person accepting from the notice."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import sign_in
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, Persona, World


async def invite_link(server: RunningServer, admin: Persona, email: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        created = await http.post(
            "/api/v1/admin/members",
            json={"email": email, "display_name": name, "role": "client"},
            headers=admin.auth,
        )
        assert created.status_code == 201, created.text
        link: str = created.json()["link"]
        return link


async def test_a_new_person_joins_through_the_invite_page(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    link = await invite_link(server, world["admin"], f"nia@{world.slug}.test", "Nia Okafor")
    page = watch(await (await new_context()).new_page(), page_errors)
    await page.goto(link.removeprefix(server.base_url))
    await expect(page.get_by_role("heading", name=f"Join Org {world.slug}")).to_be_visible()
    # The token leaves the address bar (and the history) at once.
    assert "#" not in page.url, page.url
    await expect(page.get_by_label("Your name")).to_have_value("Nia Okafor")
    await page.get_by_label("Your name").fill("Nia O.")
    await page.get_by_label("Choose a password").fill("nia's own passphrase")
    await page.get_by_role("button", name="Accept and join").click()
    await expect(page.locator("nav.sidebar")).to_be_visible()

    # The same link again: used, said plainly.
    again = watch(await (await new_context()).new_page(), page_errors)
    await again.goto(link.removeprefix(server.base_url))
    await expect(again.get_by_role("alert")).to_contain_text("accepted already")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        signed = await http.post(
            "/api/v1/auth/token",
            json={"email": f"nia@{world.slug}.test", "password": "nia's own passphrase"},
        )
        assert signed.status_code == 200, signed.text
        me = await http.get(
            "/api/v1/me", headers={"authorization": f"Bearer {signed.json()['token']}"}
        )
        assert me.json()["display_name"] == "Nia O."
    assert page_errors == []


async def test_an_existing_account_signs_in_with_its_own_password_to_accept(
    server: RunningServer,
    world: World,
    other_world: World,
    new_context: NewContext,
    page_errors: list[str],
) -> None:
    sam = other_world["sam"]
    link = await invite_link(server, world["admin"], sam.email, "Sam (visiting)")
    page = watch(await (await new_context()).new_page(), page_errors)
    await page.goto(link.removeprefix(server.base_url))
    await expect(page.get_by_role("heading", name=f"Join Org {world.slug}")).to_be_visible()
    # Choosing "new" for an e-mail that has an account sets no password: it says so.
    await page.get_by_label("Choose a password").fill("the admin's own choice")
    await page.get_by_role("button", name="Accept and join").click()
    await expect(page.get_by_role("alert")).to_contain_text("already has a careline account")
    await page.get_by_label("I already use careline").check()
    await expect(page.get_by_label("Your name")).to_be_hidden()
    await page.get_by_label("Your careline password").fill("not the password")
    await page.get_by_role("button", name="Accept and join").click()
    await expect(page.get_by_role("alert")).to_contain_text("does not match")
    await page.get_by_label("Your careline password").fill(PASSWORD)
    await page.get_by_role("button", name="Accept and join").click()
    await expect(page.locator("nav.sidebar")).to_be_visible()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        member = await http.get(
            f"/api/v1/admin/members/{sam.account_id}", headers=world["admin"].auth
        )
        assert member.json()["display_name"] == "Sam (visiting)", member.text
    assert page_errors == []


async def test_a_signed_in_person_accepts_from_the_notice(
    server: RunningServer,
    world: World,
    other_world: World,
    new_context: NewContext,
    page_errors: list[str],
) -> None:
    sam = other_world["sam"]
    await invite_link(server, world["admin"], sam.email, "Sam (visiting)")
    page = watch(await sign_in(await new_context(), sam), page_errors)
    offer = page.get_by_role("group", name=f"Invitation from Org {world.slug}")
    await expect(offer).to_be_visible()
    await offer.get_by_role("button", name="Accept").click()
    await expect(page.get_by_role("status").filter(has_text="You joined")).to_be_visible()
    await expect(offer).to_be_hidden()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        member = await http.get(
            f"/api/v1/admin/members/{sam.account_id}", headers=world["admin"].auth
        )
        assert member.status_code == 200, member.text
    assert page_errors == []
