"""The unsubscribe link of a notification e-mail, followed in a real browser without
signing in: the page asks, its button turns off exactly e-mail notifications."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, expect

from careline.notifications.email_channel import CHANNEL
from tests.e2e.conftest import watch
from tests.notifications.test_email import delivery_for, own_choices, parts
from tests.support.server import RunningServer
from tests.support.smtp import SmtpServer
from tests.support.world import World


async def test_the_unsubscribe_link_works_in_a_browser_without_signing_in(
    server: RunningServer,
    relay: SmtpServer,
    http: httpx.AsyncClient,
    world: World,
    browser: Browser,
    page_errors: list[str],
) -> None:
    assert (await CHANNEL.send(await delivery_for(http, world))).outcome == "sent"
    # The relay is this test's, but the session's server may hand it another test's
    # e-mail coming due meanwhile (an alert to every organisation's admins): take Lily's.
    await relay.inbox.wait_for(1)
    [message] = [m for m in relay.inbox.messages if world["lily"].email in str(m["To"])]
    [link] = re.findall(r'href="([^"]*/api/v1/unsubscribe/[^"]+)"', parts(message)["text/html"])
    context = await browser.new_context(base_url=server.base_url, locale="en-GB")
    try:
        page = watch(await context.new_page(), page_errors)
        await page.goto(link)
        organisation = f"Org {world.slug}"
        asking = f"Stop e-mail notifications from {organisation}?"
        await expect(page.get_by_role("heading", name=asking)).to_be_visible()
        assert await own_choices(world, "lily") is None  # opening the page changes nothing
        await page.get_by_role("button", name="Stop these e-mails").click()
        done = f"You will get no more e-mail notifications from {organisation}."
        await expect(page.get_by_role("heading", name=done)).to_be_visible()
    finally:
        await context.close()
    choices = await own_choices(world, "lily")
    assert (choices["email"], choices["push"], choices["digest"]) == (False, None, None)
    assert page_errors == []
