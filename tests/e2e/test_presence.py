"""Presence names who is online and is true: when the other person's device drops off
the network, their thread header goes from "Lily is online" to "Last seen today at ..."
within the heartbeat window (docs/protocol.md#heartbeats)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewContext, watch
from tests.e2e.support import conversation_link, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World
from tests.web.test_http_abuse import listener

HEARTBEAT = 1.0
# Two heartbeats (a ping, and as long for its pong), and time for two busy cores.
WINDOW_MS = int((2 * HEARTBEAT + 4) * 1000)


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
            base_url=short.base_url, viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London"
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
