"""The thread: edits (marked, with history for staff), deletions (a placeholder stays),
older history loading on scroll, and the "new messages" pill when scrolled up."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World


async def test_edit_is_marked_and_staff_can_read_the_history_and_delete_leaves_a_placeholder(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"])
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    lily = watch(await sign_in(await new_context(), world["lily"]), page_errors)
    await conversation_link(sam, "Lily Client").click()
    await conversation_link(lily, "Sam Clinician").click()

    # Lily edits her message: both sides see the new text marked "edited".
    await composer(lily).fill("See you at 3")
    await composer(lily).press("Enter")
    mine = message(lily, "See you at 3")
    await mine.hover()
    await mine.get_by_role("button", name="More actions").click()
    await lily.get_by_role("menuitem", name="Edit").click()
    await expect(lily.locator(".composer-context")).to_contain_text("Editing message")
    await expect(composer(lily)).to_have_value("See you at 3")
    await composer(lily).fill("See you at 4")
    await composer(lily).press("Enter")
    await expect(message(sam, "See you at 4")).to_contain_text("edited")
    await expect(message(lily, "See you at 4")).to_contain_text("edited")
    # Clients see that it changed, not what it said before.
    await expect(message(lily, "See you at 4").get_by_role("button", name="Edited")).to_have_count(
        0
    )
    await message(sam, "See you at 4").get_by_role("button", name="Edited").click()
    history = sam.get_by_role("dialog", name="Edit history")
    await expect(history.locator(".revision-text")).to_have_text(["See you at 3", "See you at 4"])
    await sam.keyboard.press("Escape")
    await expect(history).to_be_hidden()

    # Lily deletes it: a placeholder stays on both sides, the text is gone.
    await message(lily, "See you at 4").hover()
    await message(lily, "See you at 4").get_by_role("button", name="More actions").click()
    await lily.get_by_role("menuitem", name="Delete").click()
    confirm = lily.get_by_role("dialog", name="Delete message?")
    await confirm.get_by_role("button", name="Delete").click()
    for page in (sam, lily):
        await expect(page.locator(".text.redacted")).to_have_text("This message was deleted")
        await expect(page.locator(".messages")).not_to_contain_text("See you at 4")
    assert page_errors == []


async def test_older_messages_load_on_scroll_and_new_ones_wait_behind_a_pill(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    conversation_id = await open_care(
        server,
        world["sam"],
        world["lily"],
        *[(world["sam"] if i % 3 else world["lily"], f"Message number {i}") for i in range(130)],
    )
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    await conversation_link(sam, "Lily Client").click()
    await expect(message(sam, "Message number 129")).to_be_visible()
    await expect(sam.locator("li.msg")).to_have_count(50)

    # Scrolling up fetches earlier pages until the beginning of the conversation.
    for _ in range(10):
        await sam.locator(".scroller").evaluate("el => el.scrollTo({top: 0})")
        if await sam.locator(".start-card").count():
            break
        await sam.wait_for_timeout(200)
    await expect(sam.locator(".start-card")).to_contain_text("beginning of your conversation")
    await expect(sam.locator("li.msg")).to_have_count(130)
    # Loading a page keeps the reader's place; go to the very top to read the first one.
    await sam.locator(".scroller").evaluate("el => el.scrollTo({top: 0})")
    await expect(message(sam, "Message number 0")).to_be_in_viewport()

    # Scrolled up, a new message does not yank the view: a pill offers to jump.
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "late", "text": "Are you there?"},
            headers=world["lily"].auth,
        )
        assert sent.status_code == 201, sent.text
    pill = sam.get_by_role("button", name="1 new message")
    await expect(pill).to_be_visible()
    await expect(message(sam, "Message number 0")).to_be_in_viewport()
    await pill.click()
    await expect(message(sam, "Are you there?")).to_be_in_viewport()
    await expect(pill).to_be_hidden()
    # At the bottom, the next one simply appears.
    await composer(sam).fill("Yes, here")
    await composer(sam).press("Enter")
    await expect(message(sam, "Yes, here")).to_be_in_viewport()
    assert page_errors == []


async def test_archive_and_mute_are_per_person(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["lily"], "Hello"))
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    await conversation_link(sam, "Lily Client").click()
    mute = sam.get_by_role("button", name="Mute notifications")
    await mute.click()
    await expect(mute).to_have_attribute("aria-pressed", "true")
    await expect(conversation_link(sam, "Lily Client").locator(".conv-muted")).to_be_visible()
    await sam.get_by_role("button", name="Archive conversation").click()
    await expect(conversation_link(sam, "Lily Client")).to_have_count(0)
    await sam.get_by_role("link", name="Archived").click()
    await expect(conversation_link(sam, "Lily Client")).to_be_visible()
    await conversation_link(sam, "Lily Client").click()
    await sam.get_by_role("button", name="Move to inbox").click()
    await sam.get_by_role("link", name="Inbox").click()
    await expect(conversation_link(sam, "Lily Client")).to_be_visible()

    # Lily's own view is untouched.
    lily = watch(await sign_in(await new_context(), world["lily"]), page_errors)
    await expect(conversation_link(lily, "Sam Clinician")).to_be_visible()
    await expect(conversation_link(lily, "Sam Clinician").locator(".conv-muted")).to_have_count(0)
    assert page_errors == []
