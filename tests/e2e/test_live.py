"""A clinician and a client, each in their own browser, talk in real time: messages,
typing, "Seen", and unread badges all move without a reload."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World


async def test_staff_and_client_exchange_messages_live(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["sam"], "Hello Lily, how are you?"))
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    lily = watch(await sign_in(await new_context(), world["lily"]), page_errors)

    # Lily has one unread message waiting; opening the thread clears the badge ...
    lily_row = conversation_link(lily, "Sam Clinician")
    await expect(lily_row.locator(".badge")).to_have_text("1")
    await conversation_link(sam, "Lily Client").click()
    await expect(message(sam, "Hello Lily")).to_be_visible()
    await expect(sam.locator(".receipt-line")).to_have_text(re.compile(r"^(Sent|Delivered)$"))
    await lily_row.click()
    await expect(message(lily, "Hello Lily")).to_be_visible()
    await expect(lily_row.locator(".badge")).to_have_count(0)
    # ... and Sam sees that Lily has read it.
    await expect(sam.locator(".receipt-line")).to_have_text(re.compile(r"^Seen by Lily"))

    # Typing shows on the other side, and clears when the typist stops.
    await composer(lily).fill("")
    await composer(lily).press_sequentially("I am ok")
    await expect(sam.locator(".thread-status")).to_have_text("Lily is typing…")
    await expect(sam.locator(".typing-row")).to_contain_text("Lily is typing")
    await composer(lily).press("Enter")
    await expect(message(sam, "I am ok")).to_be_visible()
    await expect(sam.locator(".typing-row")).to_be_hidden()
    await expect(sam.locator(".thread-status")).not_to_contain_text("typing")

    # Sam, back on the list (client-side navigation: no reload), sees Lily's next
    # messages raise the unread badge.
    await sam.get_by_role("link", name="Inbox").click()
    await expect(sam.locator("li.msg")).to_have_count(0)
    await expect(conversation_link(sam, "Lily Client")).to_be_visible()
    await composer(lily).fill("One more thing")
    await composer(lily).press("Enter")
    await expect(conversation_link(sam, "Lily Client").locator(".badge")).to_have_text("1")
    await expect(conversation_link(sam, "Lily Client")).to_contain_text("One more thing")
    await composer(lily).fill("And another")
    await composer(lily).press("Enter")
    await expect(conversation_link(sam, "Lily Client").locator(".badge")).to_have_text("2")
    await conversation_link(sam, "Lily Client").click()
    await expect(message(sam, "And another")).to_be_visible()
    await expect(conversation_link(sam, "Lily Client").locator(".badge")).to_have_count(0)
    await expect(lily.locator(".receipt-line")).to_have_text(re.compile(r"^Seen by Sam"))
    assert page_errors == []


async def test_a_new_team_conversation_appears_for_its_members_without_a_reload(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    jo = watch(await sign_in(await new_context(), world["jo"]), page_errors)
    await (
        sam.get_by_role("region", name="Welcome, Sam")
        .get_by_role("button", name="New message")
        .click()
    )
    dialog = sam.get_by_role("dialog", name="New message")
    await dialog.get_by_role("radio", name="My team").check()
    await dialog.get_by_label("Name (optional)").fill("Case review")
    await dialog.get_by_role("checkbox", name="Jo Clinician").check()
    await dialog.get_by_label("About").select_option(label="Lily Client")
    await dialog.get_by_role("button", name="Create team conversation").click()
    await expect(sam.get_by_role("heading", name="Case review")).to_be_visible()
    # Jo is signed in: the header names who is online.
    await expect(sam.locator(".thread-status")).to_have_text("Jo is online")
    await composer(sam).fill("Shall we review Lily's plan on Friday?")
    await composer(sam).press("Enter")

    await expect(conversation_link(jo, "Case review")).to_contain_text("Shall we review")
    await expect(conversation_link(jo, "Case review").locator(".badge")).to_have_text("1")
    await conversation_link(jo, "Case review").click()
    await expect(message(jo, "review Lily's plan")).to_be_visible()
    await expect(sam.locator(".receipt-line")).to_have_text(re.compile(r"^Seen by Jo"))
    assert page_errors == []


async def test_a_conversation_row_is_not_replaced_while_others_change(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    """The list re-renders on every message, presence and typing change; a row that did
    not change must stay the same element, or a click landing mid-update is lost (the
    press on the old link, the release on its replacement)."""
    await open_care(server, world["sam"], world["lily"], (world["lily"], "Hello"))
    tom_conversation = await open_care(server, world["sam"], world["tom"], (world["tom"], "Hi"))
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    lily_row = await conversation_link(sam, "Lily Client").element_handle()

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        sent = await http.post(
            f"/api/v1/conversations/{tom_conversation}/messages",
            json={"client_msg_id": "row-stays", "text": "One more thing"},
            headers=world["tom"].auth,
        )
        assert sent.status_code == 201, sent.text
    await expect(conversation_link(sam, "Tom Client")).to_contain_text("One more thing")
    assert await lily_row.evaluate("(link) => link.isConnected")
    await lily_row.click()
    await expect(message(sam, "Hello")).to_be_visible()
    assert page_errors == []
