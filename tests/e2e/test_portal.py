"""The portal for clients and families: start a conversation with the care team or the
support desk; a guardian chooses which child they are acting for."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import PHONE, NewContext, watch
from tests.e2e.support import composer, conversation_link, history, message, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World


async def test_client_messages_their_care_team_and_the_support_desk(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    lily = watch(await sign_in(await new_context(PHONE), world["lily"]), page_errors)
    await expect(lily.locator(".list-empty")).to_contain_text("No conversations yet")
    await lily.get_by_role("button", name="New message").click()
    dialog = lily.get_by_role("dialog", name="New message")
    team = dialog.get_by_role("list", name="Your care team")
    await expect(team.get_by_role("button")).to_have_count(1)
    await expect(team.get_by_role("button")).to_contain_text("Primary clinician")
    await team.get_by_role("button", name="Sam Clinician").click()
    await expect(lily.get_by_role("heading", name="Sam Clinician")).to_be_visible()
    await composer(lily).fill("Can we talk about next week?")
    await composer(lily).press("Enter")
    await expect(message(lily, "Can we talk about next week?")).to_be_visible()

    # On a phone the thread replaces the list; Back returns to it.
    await lily.get_by_role("link", name="Back to conversations").click()
    await expect(conversation_link(lily, "Sam Clinician")).to_contain_text("You: Can we talk")
    await lily.get_by_role("button", name="New message").click()
    await lily.get_by_role("button", name=f"Org {world.slug} support").click()
    await composer(lily).fill("I need a receipt for my last session")
    await composer(lily).press("Enter")
    await expect(message(lily, "I need a receipt")).to_be_visible()
    await lily.get_by_role("link", name="Back to conversations").click()
    # With a support thread in the list, the shortcut to it has done its job.
    await expect(conversation_link(lily, f"Org {world.slug} support")).to_be_visible()
    await expect(lily.locator(".portal-help")).to_be_hidden()

    admin = watch(await sign_in(await new_context(), world["admin"]), page_errors)
    await expect(conversation_link(admin, "Support · Lily Client")).to_contain_text("receipt")
    await expect(conversation_link(admin, "Support · Lily Client").locator(".badge")).to_have_text(
        "1"
    )
    assert page_errors == []


async def test_guardian_chooses_the_child_they_act_for(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["sam"], "About Lily"))
    tom_thread = await open_care(server, world["jo"], world["tom"], (world["jo"], "About Tom"))
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        linked = await http.put(
            "/api/v1/admin/guardian-links",
            json={
                "guardian_id": str(world["grace"].account_id),
                "client_id": str(world["tom"].account_id),
            },
            headers=world["admin"].auth,
        )
        assert linked.status_code == 200, linked.text

    grace = watch(await sign_in(await new_context(PHONE), world["grace"]), page_errors)
    acting = grace.get_by_label("Acting for")
    await expect(acting.locator("option")).to_have_text(["Lily Client", "Tom Client"])
    await expect(conversation_link(grace, "Sam Clinician")).to_be_visible()
    await expect(conversation_link(grace, "Jo Clinician")).to_have_count(0)

    await acting.select_option(label="Tom Client")
    await expect(conversation_link(grace, "Jo Clinician")).to_be_visible()
    await expect(conversation_link(grace, "Sam Clinician")).to_have_count(0)
    # The choice is remembered on this device.
    await grace.reload()
    await expect(grace.get_by_label("Acting for")).to_have_value(str(world["tom"].account_id))

    await conversation_link(grace, "Jo Clinician").click()
    await composer(grace).fill("Tom is feeling better")
    await composer(grace).press("Enter")
    await expect(message(grace, "Tom is feeling better")).to_be_visible()
    assert await history(server, world["jo"], tom_thread) == ["About Tom", "Tom is feeling better"]

    # A new conversation is about the child chosen: Tom's care team is Jo.
    await grace.get_by_role("link", name="Back to conversations").click()
    await grace.get_by_role("button", name="New message").click()
    team = grace.get_by_role("list", name="Your care team")
    await expect(team.get_by_role("button")).to_have_count(1)
    await expect(team.get_by_role("button")).to_contain_text("Jo Clinician")
    await grace.keyboard.press("Escape")

    # The support shortcut opens Tom's support thread (Tom is the child chosen).
    await grace.get_by_role("button", name="Message support").click()
    await expect(grace.get_by_role("heading", name=f"Org {world.slug} support")).to_be_visible()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        listed = await http.get("/api/v1/conversations", headers=world["grace"].auth)
    support = [c for c in listed.json()["items"] if c["kind"] == "support"]
    assert [c["client_id"] for c in support] == [str(world["tom"].account_id)]
    assert page_errors == []
