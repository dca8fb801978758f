"""Messages written without a connection wait in an outbox (kept across a reload) and go
out once with the same client id when the connection is back: never lost, never twice."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import WebSocketRoute, expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import composer, conversation_link, history, message, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World


async def test_message_written_offline_is_delivered_once_when_back_online(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    conversation_id = await open_care(server, world["sam"], world["lily"], (world["sam"], "Hi"))
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    lily_context = await new_context()
    lily = watch(await sign_in(lily_context, world["lily"]), page_errors)
    await conversation_link(sam, "Lily Client").click()
    await conversation_link(lily, "Sam Clinician").click()
    await expect(message(lily, "Hi")).to_be_visible()

    await lily_context.set_offline(True)
    await expect(
        lily.get_by_role("status").filter(has_text="offline. Messages you write")
    ).to_be_visible()
    await composer(lily).fill("Written on the train")
    await composer(lily).press("Enter")
    pending = lily.locator("li.msg.pending", has_text="Written on the train")
    await expect(pending).to_contain_text("Waiting for connection")
    await expect(lily.locator(".conn")).to_contain_text("1 message is waiting to be sent")
    await asyncio.sleep(0.5)
    await expect(message(sam, "Written on the train")).to_have_count(0)

    await lily_context.set_offline(False)
    await expect(message(sam, "Written on the train")).to_have_count(1)
    await expect(lily.locator("li.msg.pending")).to_have_count(0)
    await expect(message(lily, "Written on the train")).to_have_count(1)
    await expect(lily.locator(".conn")).to_contain_text("Connected again")
    assert await history(server, world["sam"], conversation_id) == ["Hi", "Written on the train"]
    assert page_errors == []


async def test_queued_message_survives_a_reload_and_is_sent_once(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    conversation_id = await open_care(server, world["sam"], world["lily"], (world["sam"], "Hi"))
    lily_context = await new_context()
    socket_allowed = asyncio.Event()

    async def gate(ws: WebSocketRoute) -> None:
        # The socket is unreachable (HTTP still works) until the test lets it through.
        if socket_allowed.is_set():
            ws.connect_to_server()
        else:
            await ws.close(code=1011, reason="unreachable")

    await lily_context.route_web_socket("**/api/v1/ws", gate)
    lily = watch(await sign_in(lily_context, world["lily"]), page_errors)
    await conversation_link(lily, "Sam Clinician").click()
    await composer(lily).fill("Please call me back")
    await composer(lily).press("Enter")
    await expect(lily.locator("li.msg.pending")).to_contain_text("Please call me back")

    await lily.reload()
    await expect(lily.locator("li.msg.pending")).to_contain_text("Please call me back")
    assert await history(server, world["sam"], conversation_id) == ["Hi"]

    # Let the socket through only once the reloaded client has seen it refused and waits
    # 3 s or more before its own next try: then the connection that follows is the one
    # "Retry now" makes (let through sooner, the client's first try after the reload or
    # its next backoff try gets in, the banner goes straight to connected, and the button
    # never shows).
    await expect(lily.locator(".conn-text")).to_contain_text(
        re.compile(r"Reconnecting in ([3-9]|\d\d+) s")
    )
    socket_allowed.set()
    await lily.locator(".conn-retry").click()
    await expect(lily.locator("li.msg.pending")).to_have_count(0)
    await expect(message(lily, "Please call me back")).to_have_count(1)
    # A reload after delivery resends nothing: the outbox is empty.
    await lily.reload()
    await expect(message(lily, "Please call me back")).to_have_count(1)
    assert await history(server, world["sam"], conversation_id) == ["Hi", "Please call me back"]
    assert page_errors == []
