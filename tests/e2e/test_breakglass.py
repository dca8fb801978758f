"""Emergency intervention in the browser: every step asks for a reason first; a freeze
shows the client the paused banner with the reason, live; the read-only view shows the
history without a composer and says until when."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.breakglass.support import second_admin
from tests.e2e.conftest import DESKTOP, PHONE, NewContext, watch
from tests.e2e.support import composer, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World


@pytest.mark.parametrize(
    "size", [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
)
async def test_an_admin_freezes_with_a_reason_and_reads_a_conversation_read_only(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    size: dict[str, int],
) -> None:
    conversation = await open_care(
        server, world["sam"], world["lily"], (world["lily"], "I need to talk about my week")
    )
    lily = watch(await sign_in(await new_context(size), world["lily"]), page_errors)
    await lily.goto(f"/c/{conversation}")
    await expect(lily.locator("p.text", has_text="I need to talk about my week")).to_be_visible()
    banner = lily.locator(".paused-banner")
    await expect(banner).to_be_hidden()
    await expect(composer(lily)).to_be_visible()

    ann = await second_admin(server, world)
    other = watch(await sign_in(await new_context(size), ann, "/admin"), page_errors)
    admin = watch(
        await sign_in(await new_context(size), world["admin"], "/admin/conversations"),
        page_errors,
    )
    row = admin.locator(f'li.bg-item[data-conversation="{conversation}"]')
    await row.get_by_role("button", name="Freeze").click()
    dialog = admin.get_by_role("dialog")
    await dialog.get_by_role("button", name="Freeze").click()
    # No reason, no freeze: the dialog stays and says why.
    await expect(dialog.get_by_role("alert")).to_have_text("Say why: a reason is required.")
    await expect(banner).to_be_hidden()
    await dialog.get_by_label("Reason (required)").fill("Safeguarding review under way")
    await dialog.get_by_role("button", name="Freeze").click()
    await expect(dialog).to_be_hidden()
    await expect(row.locator(".bg-badge", has_text="Paused")).to_be_visible()

    # The client sees that it is paused, and why, without reloading.
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("An admin has paused this conversation")
    await expect(banner).to_contain_text("Safeguarding review under way")
    await expect(composer(lily)).to_be_hidden()

    # The other admin is told, with no more than that, and the bell leads to the list.
    await expect(other.locator(".bell-btn")).to_have_accessible_name("Notifications, 1 unread")
    await other.locator(".bell-btn").click()
    told = other.locator(".bell-item .bell-what")
    await expect(told).to_have_text("An admin intervened in a conversation")
    await told.click()
    await expect(other).to_have_url(f"{server.base_url}/admin/conversations")

    # Read-only access: a reason and hours, then the history with no composer.
    await row.get_by_role("button", name="Open read-only").click()
    dialog = admin.get_by_role("dialog")
    await dialog.get_by_label("Reason (required)").fill("Checking what was said")
    await dialog.get_by_label("For how many hours (1 to 24)").fill("2")
    await dialog.get_by_role("button", name="Open read-only").click()
    until = admin.locator(".bg-readonly-until")
    await expect(until).to_have_text(re.compile(r"^Read-only until \d\d:\d\d$"))
    await expect(admin.locator(".bg-text", has_text="I need to talk about my week")).to_be_visible()
    await expect(admin.get_by_role("textbox", name="Write a message")).to_have_count(0)
    await admin.get_by_role("button", name="End access now").click()
    await expect(admin.locator(f'li.bg-item[data-conversation="{conversation}"]')).to_be_visible()
    assert page_errors == []
