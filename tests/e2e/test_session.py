"""Signing in and out: clear errors, an organisation choice for people in several, and a
session that ends (revoked, expired) sends you to sign-in without losing your draft."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from careline.db.tx import Actor, Role, transaction
from careline.tenants import service as tenant_service
from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, World


async def test_wrong_password_says_so_and_keeps_you_on_the_form(
    world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    page = watch(await (await new_context()).new_page(), page_errors)
    await page.goto("/")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Enter your e-mail address and password.")
    await page.get_by_label("E-mail address").fill(world["lily"].email)
    await page.get_by_label("Password", exact=True).fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("do not match")
    await expect(page.get_by_label("Password", exact=True)).to_be_focused()
    assert page_errors == []


async def test_a_person_in_two_organisations_chooses_one(
    world: World, other_world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    async with transaction(Actor.system(other_world.tenant_id)) as tx:
        await tenant_service.do_add_member(
            tx,
            tenant_id=other_world.tenant_id,
            email=world["sam"].email,
            display_name="Sam Clinician",
            role=Role.STAFF,
            password=None,
        )
    page = watch(await (await new_context()).new_page(), page_errors)
    await page.goto("/")
    await page.get_by_label("E-mail address").fill(world["sam"].email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("several organisations")
    await page.get_by_role("radio", name=f"Org {other_world.slug}").check()
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator(".side-title .org")).to_have_text(f"Org {other_world.slug}")
    assert page_errors == []


async def test_ended_session_goes_to_sign_in_and_keeps_the_draft(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    conversation_id = await open_care(server, world["sam"], world["lily"], (world["sam"], "Hi"))
    lily = watch(await sign_in(await new_context(), world["lily"]), page_errors)
    await conversation_link(lily, "Sam Clinician").click()
    await composer(lily).fill("Half a thought that must not be lost")

    async with httpx.AsyncClient(base_url=server.base_url) as http:
        revoked = await http.post(
            f"/api/v1/admin/members/{world['lily'].account_id}/revoke-sessions",
            headers=world["admin"].auth,
        )
        assert revoked.status_code == 200, revoked.text

    await expect(lily.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(lily.locator(".notice")).to_contain_text("Your session ended")
    await lily.get_by_label("E-mail address").fill(world["lily"].email)
    await lily.get_by_label("Password", exact=True).fill(PASSWORD)
    await lily.get_by_role("button", name="Sign in").click()
    # Back where she was, with what she was typing.
    await expect(lily).to_have_url(f"{server.base_url}/c/{conversation_id}")
    await expect(message(lily, "Hi")).to_be_visible()
    await expect(composer(lily)).to_have_value("Half a thought that must not be lost")
    assert page_errors == []


async def test_signing_out_leaves_nothing_behind(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"])
    context = await new_context()
    lily = watch(await sign_in(context, world["lily"]), page_errors)
    await conversation_link(lily, "Sam Clinician").click()
    await composer(lily).fill("A private draft")
    await composer(lily).blur()
    assert "A private draft" in await lily.evaluate("JSON.stringify(localStorage)")
    await lily.get_by_role("button", name="Account menu for Lily Client").click()
    await lily.get_by_role("menuitem", name="Sign out").click()
    await expect(lily.locator(".notice")).to_have_text("You have signed out.")
    assert "A private draft" not in await lily.evaluate("JSON.stringify(localStorage)")
    cookies = [c["name"] for c in await context.cookies()]
    assert "careline_session" not in cookies
    # The API agrees the session is over.
    response = await lily.request.get("/api/v1/me")
    assert response.status == 401
    assert page_errors == []
