"""What people type is shown as text, never run as markup, under a strict CSP."""

from __future__ import annotations

from playwright.async_api import Dialog, expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    '<script>window.pwned = "script"</script>',
    '<a href="javascript:window.pwned=1">click</a> & <b>bold</b>',
]


async def test_markup_in_messages_shows_as_text_and_runs_nothing(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"])
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    lily = watch(await sign_in(await new_context(), world["lily"]), page_errors)
    dialogs: list[str] = []

    async def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    for page in (sam, lily):
        page.on("dialog", record)
    await conversation_link(sam, "Lily Client").click()
    await conversation_link(lily, "Sam Clinician").click()
    for payload in PAYLOADS:
        await composer(sam).fill(payload)
        await composer(sam).press("Enter")
    for page in (sam, lily):
        for payload in PAYLOADS:
            # The exact characters, as text.
            await expect(message(page, payload).locator("p.text")).to_have_text(payload)
        assert (
            await page.locator(".messages img, .messages script, .messages a, .messages b").count()
            == 0
        )
        # The conversation list preview is text too.
    await expect(conversation_link(lily, "Sam Clinician")).to_contain_text("<a href=")
    assert await lily.locator(".conv-list img, .conv-list a b").count() == 0
    assert await lily.evaluate("window.pwned") is None
    assert await sam.evaluate("window.pwned") is None
    assert dialogs == []
    assert page_errors == []


async def test_pages_carry_a_strict_content_security_policy(
    server: RunningServer, new_context: NewContext
) -> None:
    page = await (await new_context()).new_page()
    response = await page.goto("/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    # The shell itself has no inline script for the policy to have to allow.
    inline = await page.evaluate("[...document.scripts].filter(s => !s.src).length")
    assert inline == 0
