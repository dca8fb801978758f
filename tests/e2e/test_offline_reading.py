"""Reading offline: the device keeps the most recent conversations and their newest
messages (IndexedDB), a reload without a network shows them marked as offline, live data
takes over when careline answers again, and the copy is gone after signing out, after the
session ends, and for the next account on the same device."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import (
    composer,
    controlled,
    conversation_link,
    history,
    message,
    open_care,
    sign_in,
)
from tests.e2e.test_accessibility import axe
from tests.support.clamd import Clamd
from tests.support.files import send_with, upload, wait_state
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, Persona, World

OFFLINE = "Offline — showing what this device kept, as of"

# Everything in careline's offline database, as any script of the page could read it.
# It opens the database only if it exists (opening creates it, without its stores).
READ_KEPT = """async () => {
  if (!(await indexedDB.databases()).some((d) => d.name === 'careline-offline')) return {};
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open('careline-offline');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const names = [...db.objectStoreNames];
  const out = {};
  if (names.length) {
    const tx = db.transaction(names, 'readonly');
    await Promise.all(names.map((n) => new Promise((resolve) => {
      tx.objectStore(n).getAll().onsuccess = (ev) => { out[n] = ev.target.result; resolve(); };
    })));
  }
  db.close();
  return out;
}"""

READ_CACHES = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
  }
  return urls;
}"""


async def kept(page: Page) -> dict[str, list[dict[str, Any]]]:
    value: dict[str, list[dict[str, Any]]] = await page.evaluate(READ_KEPT)
    return value


def records(copy: dict[str, list[dict[str, Any]]]) -> int:
    return sum(len(rows) for rows in copy.values())


async def kept_until(
    page: Page, check: Callable[[dict[str, list[dict[str, Any]]]], bool], *, timeout: float = 15
) -> dict[str, list[dict[str, Any]]]:
    """Poll the device's copy until `check` holds (it is written a moment after the
    store learns something)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        copy = await kept(page)
        if check(copy):
            return copy
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the kept copy never matched: {json.dumps(copy)[:2000]}")
        await asyncio.sleep(0.1)


def holds(text: str) -> Callable[[dict[str, list[dict[str, Any]]]], bool]:
    return lambda copy: any(
        m["text"] == text for row in copy.get("threads", []) for m in row["messages"]
    )


async def signed_in_with_worker(
    context: BrowserContext, persona: Persona, errors: list[str]
) -> Page:
    page = watch(await sign_in(context, persona), errors)
    # The worker has cached the shell and controls the page: a reload offline boots.
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await controlled(page)
    return page


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_reload_offline_shows_what_the_device_kept_and_live_data_comes_back(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    clamd: Clamd,
    viewport: dict[str, int],
) -> None:
    sam, lily = world["sam"], world["lily"]
    conversation_id = await open_care(
        server, sam, lily, (sam, "How did the night go?"), (lily, "Better, thank you")
    )
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        uploaded = await upload(http, sam, conversation_id, "wound.png", small_png())
        assert uploaded.status_code == 201, uploaded.text
        assert (await wait_state(http, sam, uploaded.json()["id"]))["state"] == "available"
        sent = await send_with(http, sam, conversation_id, [uploaded.json()["id"]], "The photo")
        assert sent.status_code == 201, sent.text

    context = await new_context(viewport, service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await expect(message(page, "Better, thank you")).to_be_visible()
    await expect(message(page, "The photo").locator(".att-image")).to_be_visible()
    copy = await kept_until(page, holds("The photo"))
    # Kept: the list, the messages, whose copy it is; never a secret or a file's link.
    assert [row["conversation"]["id"] for row in copy["conversations"]] == [conversation_id]
    assert copy["meta"][0]["me"]["account_id"] == str(lily.account_id)
    assert "csrf_token" not in json.dumps(copy)
    assert "links" not in json.dumps(copy)

    await context.set_offline(True)
    await page.reload()
    banner = page.get_by_role("status").filter(has_text=OFFLINE)
    await expect(banner).to_be_visible()
    await expect(message(page, "How did the night go?")).to_be_visible()
    await expect(message(page, "Better, thank you")).to_be_visible()
    # Files are not kept: the place of the image says so.
    photo = message(page, "The photo")
    await expect(photo.locator(".att-offline")).to_have_text(
        "Image not kept on this device: wound.png. It shows when you are back online."
    )
    await expect(photo.locator(".att-image")).to_have_count(0)
    assert await axe(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = f"{viewport['width']}x{viewport['height']}"
    await page.screenshot(path=SCREENSHOTS / f"offline-thread-{size}.png")
    if viewport == PHONE:
        await page.get_by_role("link", name="Back to conversations").click()
    await expect(conversation_link(page, "Sam Clinician")).to_contain_text("The photo")
    await expect(banner).to_be_visible()
    if viewport == PHONE:
        await conversation_link(page, "Sam Clinician").click()

    # Writing offline queues in the outbox, as with a live session that lost its network.
    await composer(page).fill("Written without a network")
    await composer(page).press("Enter")
    await expect(page.locator("li.msg.pending")).to_contain_text("Waiting for connection")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        answered = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "while-away", "text": "Sent while you were offline"},
            headers=sam.auth,
        )
        assert answered.status_code == 201, answered.text

    await context.set_offline(False)
    await expect(banner).to_be_hidden()
    await expect(message(page, "Sent while you were offline")).to_be_visible()
    await expect(message(page, "Written without a network")).to_have_count(1)
    await expect(page.locator("li.msg.pending")).to_have_count(0)
    await expect(message(page, "The photo").locator(".att-image")).to_be_visible()
    assert await history(server, sam, conversation_id) == [
        "How did the night go?",
        "Better, thank you",
        "The photo",
        "Sent while you were offline",
        "Written without a network",
    ]
    # Live again, the copy follows what the store learns.
    await kept_until(page, holds("Sent while you were offline"))
    # The service worker's caches hold the shell only, never an API answer.
    cached = await page.evaluate(READ_CACHES)
    assert cached
    assert [url for url in cached if "/api/" in url] == []
    assert page_errors == []


async def test_a_conversation_not_opened_on_this_device_says_its_messages_are_not_kept(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily = world["sam"], world["lily"]
    await open_care(server, sam, lily, (sam, "Only in the list"))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await expect(conversation_link(page, "Sam Clinician")).to_contain_text("Only in the list")
    await kept_until(page, lambda copy: len(copy.get("conversations", [])) == 1)

    await context.set_offline(True)
    await page.reload()
    await expect(page.get_by_role("status").filter(has_text=OFFLINE)).to_be_visible()
    await conversation_link(page, "Sam Clinician").click()
    await expect(page.locator(".offline-top")).to_have_text(
        "The messages of this conversation are not kept on this device."
    )
    await context.set_offline(False)
    await expect(message(page, "Only in the list")).to_be_visible()
    await expect(page.locator(".offline-top")).to_have_count(0)
    assert page_errors == []


async def test_only_the_newest_messages_are_kept_and_the_thread_says_so(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily = world["sam"], world["lily"]
    texts = [f"Note {i}" for i in range(1, 61)]
    await open_care(server, sam, lily, *((sam, text) for text in texts))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await expect(message(page, "Note 60")).to_be_visible()
    copy = await kept_until(page, holds("Note 60"))
    (thread,) = copy["threads"]
    assert [m["text"] for m in thread["messages"]] == texts[-50:]
    assert thread["has_more"] is True

    await context.set_offline(True)
    await page.reload()
    await expect(message(page, "Note 60")).to_be_visible()
    await expect(page.locator(".offline-top")).to_have_text(
        "Earlier messages are not kept on this device."
    )
    await page.locator(".scroller").evaluate("el => el.scrollTo({ top: 0 })")
    await expect(message(page, "Note 11")).to_be_visible()
    await expect(message(page, "Note 10")).to_have_count(0)
    await expect(page.locator(".offline-top")).to_be_visible()
    assert page_errors == []


async def test_a_copy_not_current_for_a_week_is_deleted_not_shown(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily = world["sam"], world["lily"]
    await open_care(server, sam, lily, (sam, "From last month"))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await kept_until(page, holds("From last month"))
    await context.set_offline(True)
    await page.reload()
    await expect(message(page, "From last month")).to_be_visible()
    # As if this device last reached careline eight days ago (the app writes nothing
    # while it shows the copy).
    await page.evaluate(
        """() => new Promise((resolve, reject) => {
          const req = indexedDB.open('careline-offline');
          req.onsuccess = () => {
            const tx = req.result.transaction('meta', 'readwrite');
            const store = tx.objectStore('meta');
            store.get('device').onsuccess = (ev) => {
              const meta = ev.target.result;
              meta.synced_at = new Date(Date.now() - 8 * 86400000).toISOString();
              store.put(meta);
            };
            tx.oncomplete = () => { req.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
          };
        })"""
    )
    await page.reload()
    await expect(page.get_by_role("heading", name="careline cannot be reached")).to_be_visible()
    assert records(await kept(page)) == 0
    assert page_errors == []


async def test_signing_out_deletes_what_the_device_kept(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily = world["sam"], world["lily"]
    await open_care(server, sam, lily, (sam, "Your results are in"))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await expect(message(page, "Your results are in")).to_be_visible()
    await kept_until(page, holds("Your results are in"))

    await page.get_by_role("button", name="Account menu for Lily Client").click()
    await page.get_by_role("menuitem", name="Sign out").click()
    await expect(page.locator(".notice")).to_have_text("You have signed out.")
    assert records(await kept(page)) == 0
    # Nothing to read offline either.
    await context.set_offline(True)
    await page.goto("/")
    await expect(page.get_by_role("heading", name="careline cannot be reached")).to_be_visible()
    assert page_errors == []


async def test_a_session_ended_by_an_admin_deletes_what_the_device_kept(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily = world["sam"], world["lily"]
    await open_care(server, sam, lily, (sam, "Your results are in"))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await expect(message(page, "Your results are in")).to_be_visible()
    await kept_until(page, holds("Your results are in"))

    async with httpx.AsyncClient(base_url=server.base_url) as http:
        revoked = await http.post(
            f"/api/v1/admin/members/{lily.account_id}/revoke-sessions",
            headers=world["admin"].auth,
        )
        assert revoked.status_code == 200, revoked.text
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator(".notice")).to_contain_text("Your session ended")
    assert records(await kept(page)) == 0
    assert page_errors == []


async def test_a_session_that_ended_while_offline_deletes_the_copy_when_back(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily = world["sam"], world["lily"]
    await open_care(server, sam, lily, (sam, "Your results are in"))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await kept_until(page, holds("Your results are in"))
    await context.set_offline(True)
    await page.reload()
    await expect(message(page, "Your results are in")).to_be_visible()

    async with httpx.AsyncClient(base_url=server.base_url) as http:
        revoked = await http.post(
            f"/api/v1/admin/members/{lily.account_id}/revoke-sessions",
            headers=world["admin"].auth,
        )
        assert revoked.status_code == 200, revoked.text
    await context.set_offline(False)
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator(".notice")).to_contain_text("Your session ended")
    assert records(await kept(page)) == 0
    assert page_errors == []


async def test_the_next_account_on_the_same_device_sees_nothing_of_the_first(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily, tom = world["sam"], world["lily"], world["tom"]
    await open_care(server, sam, lily, (sam, "A note for Lily alone"))
    await open_care(server, sam, tom, (sam, "A note for Tom"))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await kept_until(page, holds("A note for Lily alone"))

    # Lily walks away without signing out; her cookie goes (the browser dropped it).
    await context.clear_cookies()
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("E-mail address").fill(tom.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await conversation_link(page, "Sam Clinician").click()
    await expect(message(page, "A note for Tom")).to_be_visible()
    copy = await kept_until(page, holds("A note for Tom"))
    dump = json.dumps(copy)
    assert "A note for Lily alone" not in dump
    assert str(lily.account_id) not in dump

    await context.set_offline(True)
    await page.reload()
    await expect(page.get_by_role("status").filter(has_text=OFFLINE)).to_be_visible()
    await expect(message(page, "A note for Tom")).to_be_visible()
    await expect(page.get_by_text("A note for Lily alone")).to_have_count(0)
    assert page_errors == []
