"""The web client tells careline which conversation it shows (visibility.set), so a
person looking at a conversation gets no push or e-mail of it: opening the thread says
so, leaving it or closing the page takes it back."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from careline.notifications import visibility
from tests.e2e.conftest import DESKTOP, NewContext, watch
from tests.e2e.support import conversation_link, open_care, sign_in
from tests.notifications.support import until
from tests.support.server import RunningServer
from tests.support.world import World


async def test_the_open_thread_is_visible_to_delivery_until_left_or_closed(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    conversation_id = uuid.UUID(
        await open_care(server, world["sam"], world["lily"], (world["lily"], "Hello"))
    )
    sam = world["sam"]
    member = (world.tenant_id, sam.account_id)

    async def shown() -> bool:
        return visibility.current().is_visible(member, conversation_id)

    page = watch(await sign_in(await new_context(DESKTOP), sam), page_errors)
    assert not await shown()
    await conversation_link(page, "Lily Client").click()
    await expect(page.locator(".thread")).to_be_visible()
    await until(shown, lambda v: v is True)

    await page.go_back()  # back to the inbox: no thread open
    await until(shown, lambda v: v is False)

    await page.go_forward()
    await until(shown, lambda v: v is True)
    await page.close()  # the socket closes: it shows nothing any more
    await until(shown, lambda v: v is False)
    assert page_errors == []
