"""Helpers for the browser tests: signing in through the real form, opening
conversations over the API, and reading what a person sees."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.support.server import RunningServer
from tests.support.world import PASSWORD, Persona


async def sign_in(
    context: BrowserContext,
    persona: Persona,
    path: str = "/",
    *,
    before: Callable[[Page], object] | None = None,
) -> Page:
    """Sign in through the form; `before` sees the page first (to listen to its socket)."""
    page = await context.new_page()
    if before is not None:
        before(page)
    await page.goto(path)
    await page.get_by_label("E-mail address").fill(persona.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(
        page.locator(".admin" if path.startswith("/admin") else "nav.sidebar")
    ).to_be_visible()
    return page


async def open_care(
    server: RunningServer, staff: Persona, client: Persona, *messages: tuple[Persona, str]
) -> str:
    """A care conversation (opened by the staff member), with some history."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post(
            "/api/v1/conversations",
            json={"kind": "care", "client_id": str(client.account_id)},
            headers=staff.auth,
        )
        assert response.status_code in (200, 201), response.text
        conversation_id: str = response.json()["id"]
        for i, (sender, text) in enumerate(messages):
            sent = await http.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"client_msg_id": f"seed-{i}", "text": text},
                headers=sender.auth,
            )
            assert sent.status_code == 201, sent.text
    return conversation_id


async def history(server: RunningServer, persona: Persona, conversation_id: str) -> list[str]:
    """The texts of a conversation, as the API returns them."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.get(
            f"/api/v1/conversations/{conversation_id}/messages?limit=200", headers=persona.auth
        )
        assert response.status_code == 200, response.text
        return [m["text"] for m in response.json()["items"]]


def conversation_link(page: Page, name: str) -> Locator:
    return page.locator("a.conv", has_text=name)


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Write a message")


def message(page: Page, text: str) -> Locator:
    """A delivered message (not one still waiting in the outbox) containing `text`."""
    return page.locator("li.msg:not(.pending)", has=page.locator("p.text", has_text=text))


async def controlled(page: Page) -> None:
    """Until the service worker controls the page. Polled from here: the page's CSP
    (script-src 'self') refuses the eval that wait_for_function polls a string with."""
    deadline = time.monotonic() + 15
    while not await page.evaluate("!!navigator.serviceWorker.controller"):
        assert time.monotonic() < deadline, "the service worker never took the page"
        await asyncio.sleep(0.05)  # a poll: it ends as soon as the worker controls it
