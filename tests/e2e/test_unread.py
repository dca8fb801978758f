"""Nothing urgent stays hidden, and unread state is always right: badges, the unread
divider, previews and the tab title follow the server's watermarks through every case
(issue 10, items 1 and 4)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.e2e.test_accessibility import axe
from tests.support.server import RunningServer
from tests.support.world import Persona, World

URGENT = "Are you there? It is urgent"


async def api_send(server: RunningServer, sender: Persona, cid: str, text: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        sent = await http.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"client_msg_id": re.sub(r"[^A-Za-z0-9]", "-", text)[:60], "text": text},
            headers=sender.auth,
        )
        assert sent.status_code == 201, sent.text
        message_id: str = sent.json()["id"]
        return message_id


async def api_archive(server: RunningServer, persona: Persona, cid: str) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.patch(
            f"/api/v1/conversations/{cid}/me",
            json={"archived": True, "muted": True},
            headers=persona.auth,
        )
        assert r.status_code == 200, r.text


def archived_tab(page: Page) -> Locator:
    return page.locator(".tabs a.tab[href='/archived']")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_an_urgent_message_in_an_archived_muted_conversation_is_never_hidden(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    viewport: dict[str, int],
) -> None:
    cid = await open_care(server, world["sam"], world["lily"], (world["sam"], "See you Tuesday"))
    await api_archive(server, world["sam"], cid)
    sam = watch(await sign_in(await new_context(viewport), world["sam"]), page_errors)
    await expect(conversation_link(sam, "Lily Client")).to_have_count(0)

    # Grace writes: the conversation is back in Sam's inbox, its badge quiet (muted) but
    # there, and counted in the title.
    await api_send(server, world["grace"], cid, URGENT)
    row = conversation_link(sam, "Lily Client")
    await expect(row).to_contain_text(URGENT)
    await expect(row.locator(".badge")).to_have_text("1")
    await expect(row.locator(".badge")).to_have_class(re.compile(r"\bbadge-muted\b"))
    await expect(row.locator(".conv-muted")).to_be_visible()
    await expect(sam).to_have_title(re.compile(r"^\(1\) careline$"))
    await expect(archived_tab(sam).locator(".tab-badge")).to_be_hidden()

    # Sam keeps archived conversations archived (Settings, in the account menu) ...
    await sam.get_by_role("button", name="Account menu for Sam Clinician").click()
    await sam.get_by_role("menuitem", name="Settings").click()
    dialog = sam.get_by_role("dialog", name="Settings")
    keep = dialog.get_by_label("Keep archived conversations archived")
    await expect(keep).not_to_be_checked()
    assert await axe(sam) == []
    async with sam.expect_response(
        lambda r: r.url.endswith("/api/v1/me") and r.request.method == "PATCH"
    ) as saved:
        await keep.check()
    assert (await saved.value).status == 204
    await dialog.get_by_role("button", name="Close").click()
    await api_archive(server, world["sam"], cid)
    await expect(conversation_link(sam, "Lily Client")).to_have_count(0)

    # ... so the next one stays archived, and the Archived tab says something waits.
    await api_send(server, world["grace"], cid, "Please call me back")
    await expect(archived_tab(sam).locator(".tab-badge")).to_have_text("1")
    await expect(archived_tab(sam)).to_have_accessible_name(
        "Archived, 1 conversation with unread messages"
    )
    await expect(sam).to_have_title(re.compile(r"^\(1\) careline$"))
    assert await axe(sam) == []
    if viewport is DESKTOP:
        await expect(sam.get_by_role("region", name="Welcome, Sam")).to_contain_text(
            "1 conversation has unread messages (1 in Archived)."
        )
    await expect(conversation_link(sam, "Lily Client")).to_have_count(0)
    await expect(sam.locator(".conv-list")).to_contain_text(
        "1 archived conversation has unread messages."
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = f"{viewport['width']}x{viewport['height']}"
    await sam.screenshot(path=SCREENSHOTS / f"staff-archived-unread-{size}.png")
    await archived_tab(sam).click()
    archived_row = conversation_link(sam, "Lily Client")
    await expect(archived_row).to_contain_text("Please call me back")
    await expect(archived_row.locator(".badge")).to_have_text("2")

    # The setting is Sam's and survives a reload.
    await sam.reload()
    await sam.get_by_role("button", name="Account menu for Sam Clinician").click()
    await sam.get_by_role("menuitem", name="Settings").click()
    await expect(
        sam.get_by_role("dialog", name="Settings").get_by_label(
            "Keep archived conversations archived"
        )
    ).to_be_checked()
    assert page_errors == []


def divider(page: Page) -> Locator:
    return page.locator(".unread-divider")


async def test_unread_state_follows_the_watermarks_through_every_case(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    lily, sam_id = world["lily"], "Lily Client"
    cid = await open_care(server, world["sam"], lily, (world["sam"], "Hello Lily"))
    other = await open_care(server, world["sam"], world["tom"], (world["sam"], "Hello Tom"))
    assert other != cid
    laptop = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    phone = watch(await sign_in(await new_context(PHONE), world["sam"]), page_errors)
    row, phone_row = conversation_link(laptop, sam_id), conversation_link(phone, sam_id)
    await expect(row).to_contain_text("You: Hello Lily")
    await expect(row.locator(".badge")).to_have_count(0)

    # Away from the thread: each new message raises the badge, the preview and the title.
    await api_send(server, lily, cid, "first question")
    await expect(row.locator(".badge")).to_have_text("1")
    await expect(laptop).to_have_title("(1) careline")
    await expect(phone_row.locator(".badge")).to_have_text("1")
    await api_send(server, lily, cid, "second question")
    await expect(row.locator(".badge")).to_have_text("2")
    await expect(row).to_contain_text("second question")
    await expect(phone_row.locator(".badge")).to_have_text("2")

    # Opening reads: the badge goes (on the other device too); the divider stays in this
    # view, above the first unread message ...
    await row.click()
    await expect(message(laptop, "second question")).to_be_visible()
    await expect(row.locator(".badge")).to_have_count(0)
    await expect(phone_row.locator(".badge")).to_have_count(0)
    await expect(laptop).to_have_title("Lily Client · careline")
    await expect(divider(laptop)).to_be_visible()
    first_after = laptop.locator(".unread-divider + li.msg")
    await expect(first_after).to_contain_text("first question")
    # ... and is gone when the conversation is opened again.
    await laptop.get_by_role("link", name="Inbox").click()
    await row.click()
    await expect(message(laptop, "second question")).to_be_visible()
    await expect(divider(laptop)).to_have_count(0)

    # A reply reads what came before: the divider goes, the preview is mine, no badge.
    await laptop.get_by_role("link", name="Inbox").click()
    await api_send(server, lily, cid, "third question")
    await expect(row.locator(".badge")).to_have_text("1")
    await row.click()
    await expect(divider(laptop)).to_be_visible()
    await composer(laptop).fill("On it")
    await composer(laptop).press("Enter")
    await expect(message(laptop, "On it")).to_be_visible()
    await expect(divider(laptop)).to_have_count(0)
    await expect(row).to_contain_text("You: On it")
    await expect(row.locator(".badge")).to_have_count(0)
    await expect(phone_row).to_contain_text("You: On it")
    await expect(phone_row.locator(".badge")).to_have_count(0)
    await expect(laptop).to_have_title("Lily Client · careline")
    # The server agrees: the phone, which never opened the thread, reloads to the same.
    await phone.reload()
    await expect(phone_row).to_contain_text("You: On it")
    await expect(phone_row.locator(".badge")).to_have_count(0)

    # Lily answers while the thread is open and visible: read at once, no badge.
    await api_send(server, lily, cid, "thank you")
    await expect(message(laptop, "thank you")).to_be_visible()
    await expect(phone_row).to_contain_text("thank you")
    await expect(phone_row.locator(".badge")).to_have_count(0)
    await expect(row.locator(".badge")).to_have_count(0)
    await expect(divider(laptop)).to_have_count(0)

    # With another conversation open, hers counts again.
    await conversation_link(laptop, "Tom Client").click()
    await expect(message(laptop, "Hello Tom")).to_be_visible()
    doomed = await api_send(server, lily, cid, "sorry, wrong person")
    await api_send(server, lily, cid, "one more thing")
    await expect(row.locator(".badge")).to_have_text("2")
    await expect(phone_row.locator(".badge")).to_have_text("2")
    await expect(laptop).to_have_title("(1) Tom Client · careline")

    # A deleted unread message is no longer unread.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        gone = await http.delete(f"/api/v1/messages/{doomed}", headers=lily.auth)
        assert gone.status_code == 200, gone.text
    await expect(row.locator(".badge")).to_have_text("1")
    await expect(phone_row.locator(".badge")).to_have_text("1")

    # Reading on the phone clears the laptop; the laptop's count agrees after a reload.
    await phone_row.click()
    await expect(message(phone, "one more thing")).to_be_visible()
    await expect(row.locator(".badge")).to_have_count(0)
    await expect(laptop).to_have_title("Tom Client · careline")
    await laptop.reload()
    await expect(conversation_link(laptop, sam_id)).to_contain_text("one more thing")
    await expect(conversation_link(laptop, sam_id).locator(".badge")).to_have_count(0)
    assert page_errors == []
