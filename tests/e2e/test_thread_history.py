"""A thread's history and its live events never lose each other. A page of history that
the server read before something happened, and that reaches the browser after the live
event (or the send's ack) saying so, adds to the thread and takes nothing away.

The timing is forced, not hoped for: the page request goes to the real server at once
(so its snapshot comes first), and the browser only gets the answer when the test says.
The thread is opened by its address, not by a click on the sidebar, which re-renders its
rows when the socket becomes ready and can lose a click made in that instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World

# The thread's newest page (the one fetched on opening it); not an older page.
LATEST_PAGE = re.compile(r"/api/v1/conversations/[0-9a-f-]{36}/messages\?limit=\d+$")
OLDER_PAGE = re.compile(r"/api/v1/conversations/[0-9a-f-]{36}/messages\?limit=\d+&before_seq=\d+$")
BOUND_SECONDS = 15


@dataclass
class HeldPage:
    """One page of history: fetched from the server at once, handed to the browser late."""

    fetched: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_fetched(self) -> None:
        await asyncio.wait_for(self.fetched.wait(), BOUND_SECONDS)


async def hold(page: Page, pattern: re.Pattern[str]) -> HeldPage:
    held = HeldPage()

    async def handle(route: Route) -> None:
        response = await route.fetch()
        held.fetched.set()
        # Bounded, so a test that fails before releasing leaves no task waiting forever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(held.released.wait(), BOUND_SECONDS * 4)
        await route.fulfill(response=response)

    await page.route(lambda url: bool(pattern.search(url)), handle, times=1)
    return held


@dataclass
class Frames:
    """What a page's socket received (only watched, never changed)."""

    received: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def listen(self, page: Page) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", self._add))

    def _add(self, payload: str | bytes) -> None:
        self.received.append(json.loads(payload))
        self.changed.set()

    async def wait_for(self, check: Callable[[dict[str, Any]], bool]) -> None:
        async with asyncio.timeout(BOUND_SECONDS):
            while not any(check(frame) for frame in self.received):
                self.changed.clear()
                await self.changed.wait()


def event(op: str, text: str | None = None) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("op") == op and (text is None or f["message"]["text"] == text)


async def preview(page: Page, name: str, text: str) -> None:
    await expect(conversation_link(page, name).locator(".conv-preview")).to_have_text(text)


async def test_a_message_sent_while_the_history_is_on_its_way_stays_in_the_thread(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    conversation_id = await open_care(
        server, world["sam"], world["lily"], (world["sam"], "How was your week?")
    )
    frames = Frames()
    lily = watch(
        await sign_in(await new_context(), world["lily"], before=frames.listen), page_errors
    )
    held = await hold(lily, LATEST_PAGE)
    await lily.goto(f"/c/{conversation_id}")
    await held.wait_fetched()

    # Lily sends before the history arrives; the ack (the sidebar shows it as the latest
    # message) and her own live event both come while the page read before it is on its way.
    await composer(lily).fill("It was good")
    await composer(lily).press("Enter")
    await preview(lily, "Sam Clinician", "You: It was good")
    await frames.wait_for(event("message.sent", "It was good"))
    held.released.set()

    await expect(message(lily, "How was your week?")).to_be_visible()
    await expect(message(lily, "It was good")).to_be_visible()
    await expect(lily.locator("li.msg")).to_have_count(2)
    await expect(lily.locator("li.msg.pending")).to_have_count(0)
    assert page_errors == []


async def test_what_happens_while_the_history_is_on_its_way_shows_when_it_lands(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily_p = world["sam"], world["lily"]
    conversation_id = await open_care(
        server, sam, lily_p, (sam, "How was your week?"), (lily_p, "Busy but fine")
    )
    frames = Frames()
    lily = watch(await sign_in(await new_context(), lily_p, before=frames.listen), page_errors)
    held = await hold(lily, LATEST_PAGE)
    await lily.goto(f"/c/{conversation_id}")
    await held.wait_fetched()

    # While Lily's page is on its way, Sam edits his question, reacts to her answer and
    # writes again: three live events about messages the page shows as they were.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        page = await http.get(f"/api/v1/conversations/{conversation_id}/messages", headers=sam.auth)
        question, answer = page.json()["items"]
        edited = await http.patch(
            f"/api/v1/messages/{question['id']}",
            json={"text": "How was your weekend?"},
            headers=sam.auth,
        )
        assert edited.status_code == 200, edited.text
        reacted = await http.put(
            f"/api/v1/messages/{answer['id']}/reactions/{quote('👍')}", headers=sam.auth
        )
        assert reacted.status_code in (200, 201), reacted.text
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "while-loading", "text": "See you Thursday"},
            headers=sam.auth,
        )
        assert sent.status_code == 201, sent.text
    await frames.wait_for(event("message.sent", "See you Thursday"))
    await preview(lily, "Sam Clinician", "Sam: See you Thursday")
    held.released.set()

    await expect(message(lily, "See you Thursday")).to_be_visible()
    await expect(message(lily, "How was your weekend?")).to_contain_text("edited")
    await expect(message(lily, "Busy but fine").locator(".chip")).to_contain_text("👍")
    await expect(lily.locator("li.msg")).to_have_count(3)
    assert page_errors == []


async def test_a_reaction_while_an_older_page_is_on_its_way_shows_when_it_lands(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily_p = world["sam"], world["lily"]
    conversation_id = await open_care(
        server, sam, lily_p, *[(lily_p, f"Message number {i}") for i in range(60)]
    )
    frames = Frames()
    lily = watch(await sign_in(await new_context(), lily_p, before=frames.listen), page_errors)
    held = await hold(lily, OLDER_PAGE)
    await lily.goto(f"/c/{conversation_id}")
    await expect(message(lily, "Message number 59")).to_be_visible()
    await lily.locator(".scroller").evaluate("el => el.scrollTo({top: 0})")
    await held.wait_fetched()

    # Sam reacts to the very first message, which only the older page (read before the
    # reaction) brings.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        page = await http.get(
            f"/api/v1/conversations/{conversation_id}/messages?limit=1&after_seq=0",
            headers=sam.auth,
        )
        first = page.json()["items"][0]
        assert first["text"] == "Message number 0", first
        reacted = await http.put(
            f"/api/v1/messages/{first['id']}/reactions/{quote('❤️')}", headers=sam.auth
        )
        assert reacted.status_code in (200, 201), reacted.text
    await frames.wait_for(event("reaction.added"))
    held.released.set()

    await expect(message(lily, "Message number 0").locator(".chip")).to_contain_text("❤️")
    assert page_errors == []
