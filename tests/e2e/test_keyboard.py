"""Everything a person needs works from the keyboard alone: sign in, open a thread, send,
reply and react, without touching a mouse."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import message, open_care
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, World


async def tab_until(page: Page, check: str, *, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until `check` (a JS expression about
    document.activeElement, bound to `el`) holds."""
    for _ in range(limit):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if await page.evaluate(
            f"(() => {{ const el = document.activeElement; return !!({check}); }})()"
        ):
            return
    raise AssertionError(f"focus never reached: {check}")


async def test_sign_in_open_send_reply_and_react_with_the_keyboard_alone(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["sam"], "How was your week?"))
    page = watch(await (await new_context()).new_page(), page_errors)
    await page.goto("/")
    keys = page.keyboard

    # Sign in: the e-mail field has focus; Tab to the password; Enter submits.
    await expect(page.get_by_label("E-mail address")).to_be_focused()
    await keys.type(world["lily"].email)
    await keys.press("Tab")
    await expect(page.get_by_label("Password", exact=True)).to_be_focused()
    await keys.type(PASSWORD)
    await keys.press("Enter")
    await expect(page.locator("nav.sidebar")).to_be_visible()

    # Tab to the conversation and open it; the composer takes focus.
    await tab_until(page, "el.matches('a.conv') && el.textContent.includes('Sam Clinician')")
    await keys.press("Enter")
    composer = page.get_by_role("textbox", name="Write a message")
    await expect(composer).to_be_focused()

    # Send, with a line break from Shift+Enter.
    await keys.type("It was good")
    await keys.press("Shift+Enter")
    await keys.type("Thank you")
    await keys.press("Enter")
    sent = message(page, "It was good")
    await expect(sent.locator("p.text")).to_have_text("It was good\nThank you")

    # Back into the history (it is one Tab stop, entered at the newest message); arrow
    # up to Sam's message; its toolbar is next in Tab order.
    await tab_until(page, "el.matches('li.msg')", backwards=True)
    await expect(sent).to_be_focused()
    await keys.press("ArrowUp")
    question = message(page, "How was your week?")
    await expect(question).to_be_focused()

    # React: open the reaction menu, move right to the heart, choose it.
    await keys.press("Tab")
    await expect(question.get_by_role("button", name="React", exact=True)).to_be_focused()
    await keys.press("Enter")
    await expect(page.get_by_role("menuitem", name="Thumbs up")).to_be_focused()
    await keys.press("ArrowRight")
    await expect(page.get_by_role("menuitem", name="Heart")).to_be_focused()
    await keys.press("Enter")
    chip = question.locator(".chip")
    await expect(chip).to_have_attribute("aria-pressed", "true")
    await expect(chip).to_contain_text("❤️")

    # Reply: the Reply button follows React; Enter puts the composer in reply mode.
    await expect(question.get_by_role("button", name="React", exact=True)).to_be_focused()
    await keys.press("Tab")
    await expect(question.get_by_role("button", name="Reply", exact=True)).to_be_focused()
    await keys.press("Enter")
    await expect(composer).to_be_focused()
    await expect(page.locator(".composer-context")).to_contain_text("Replying to Sam")
    await keys.type("Busy but fine")
    await keys.press("Enter")
    reply = message(page, "Busy but fine")
    await expect(reply.locator(".quote")).to_contain_text("How was your week?")
    await expect(page.locator(".composer-context")).to_be_hidden()

    # Escape cancels a reply started by mistake.
    await tab_until(page, "el.matches('li.msg')", backwards=True)
    await expect(reply).to_be_focused()
    # Within the row: the quoted message (a link back to it), then React, then Reply.
    await keys.press("Tab")
    await expect(reply.locator(".quote")).to_be_focused()
    await tab_until(page, "el.dataset.action === 'reply'", limit=3)
    await expect(reply.get_by_role("button", name="Reply", exact=True)).to_be_focused()
    await keys.press("Enter")
    await expect(page.locator(".composer-context")).to_be_visible()
    await keys.press("Escape")
    await expect(page.locator(".composer-context")).to_be_hidden()
    assert page_errors == []
