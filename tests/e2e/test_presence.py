"""Presence names who is online and is true: when the other person's device drops off
the network, their thread header goes from "Lily is online" to "Last seen today at ..."
within the heartbeat window (docs/protocol.md#heartbeats)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewContext, watch
from tests.e2e.support import conversation_link, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect
from tests.web.test_http_abuse import listener

HEARTBEAT = 1.0
# Two heartbeats (a ping, and as long for its pong), then the close, the offline event
# and the page's render, on two cores that also run PostgreSQL and the suite: 4 s of
# slack was once not enough in a full run. The window itself is held to 2 heartbeats
# by tests/realtime/test_presence_heartbeat.py; here the header must follow.
WINDOW_MS = int((2 * HEARTBEAT + 12) * 1000)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_header_names_who_is_online_and_shows_last_seen_once_their_device_drops(
    server: RunningServer,
    world: World,
    browser: Browser,
    new_context: NewContext,
    page_errors: list[str],
    viewport: dict[str, int],
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["lily"], "Are you there?"))
    sam = watch(await sign_in(await new_context(viewport), world["sam"]), page_errors)
    await conversation_link(sam, "Lily Client").click()
    header = sam.locator(".thread-status")
    await expect(header).to_have_text(re.compile(r"^(Offline|Last seen today at \d)"))
    # Lily's phone talks to a node with a short heartbeat, and then loses its network.
    async with listener(server, ws_heartbeat_seconds=HEARTBEAT) as short:
        phone = await browser.new_context(
            base_url=short.base_url,
            viewport=DESKTOP,  # type: ignore[arg-type]
            locale="en-GB",
            timezone_id="Europe/London",
            service_workers="block",
        )
        try:
            await sign_in(phone, world["lily"])
            await expect(header).to_have_text("Lily is online")
            await phone.set_offline(True)
            await expect(header).to_have_text(
                re.compile(r"^Last seen today at \d{1,2}:\d{2}"), timeout=WINDOW_MS
            )
        finally:
            await phone.close()
    assert page_errors == []


async def test_a_group_header_names_everyone_online_and_drops_them_as_they_go(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        created = await http.post(
            "/api/v1/conversations",
            json={
                "kind": "team",
                "title": "Rota",
                "member_ids": [str(world["jo"].account_id), str(world["admin"].account_id)],
            },
            headers=world["sam"].auth,
        )
        assert created.status_code == 201, created.text
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    await conversation_link(sam, "Rota").click()
    header = sam.locator(".thread-status")
    await expect(header).to_have_text(re.compile(r"^(Jo, Alex|Alex, Jo) and you$"))
    async with connect(server.ws_url, world["jo"].token) as jo:
        await expect(header).to_have_text("Jo is online")
        async with connect(server.ws_url, world["admin"].token):
            await expect(header).to_have_text(re.compile(r"^(Jo and Alex|Alex and Jo) online$"))
        await expect(header).to_have_text("Jo is online")
        await jo.close()
        await expect(header).to_have_text(re.compile(r"^(Jo, Alex|Alex, Jo) and you$"))
    assert page_errors == []
