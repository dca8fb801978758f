"""Touch-first message actions on a 360 px phone (a real touch context: long press opens
an action sheet, swipe right replies, every target is at least 44 px) and, at the
desktop, the hover toolbar beside the bubble that goes away after use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Locator,
    Page,
    Route,
    expect,
)

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import composer, conversation_link, message, open_care, sign_in
from tests.e2e.test_accessibility import axe
from tests.e2e.test_keyboard import tab_until
from tests.support.server import RunningServer
from tests.support.world import World

PhoneContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def phone(browser: Browser, server: RunningServer) -> AsyncIterator[PhoneContext]:
    """Browser contexts of a touch phone, 360 px wide; closed after the test."""
    contexts: list[BrowserContext] = []

    async def make(*, reduced_motion: str = "reduce") -> BrowserContext:
        context = await browser.new_context(
            base_url=server.base_url,
            viewport=PHONE,  # type: ignore[arg-type]
            has_touch=True,
            is_mobile=True,
            locale="en-GB",
            timezone_id="Europe/London",
            service_workers="block",
            reduced_motion=reduced_motion,  # type: ignore[arg-type]
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


class Finger:
    """One finger on the screen, driven through CDP's Input.dispatchTouchEvent: the real
    touch sequence (and the pointer events Chromium derives from it)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.cdp: CDPSession | None = None
        self.x = 0.0
        self.y = 0.0

    async def _send(self, kind: str, points: list[dict[str, float]]) -> None:
        # One session for the whole gesture: a touch begun on one session cannot be
        # moved or ended from another.
        if self.cdp is None:
            self.cdp = await self.page.context.new_cdp_session(self.page)
        await self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    async def down_on(self, target: Locator) -> None:
        box = await target.bounding_box()
        assert box is not None
        self.x, self.y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        await self._send("touchStart", [{"x": self.x, "y": self.y}])

    async def move_by(self, dx: float, dy: float, *, steps: int = 8) -> None:
        x0, y0 = self.x, self.y
        for i in range(1, steps + 1):
            self.x, self.y = x0 + dx * i / steps, y0 + dy * i / steps
            await self._send("touchMove", [{"x": self.x, "y": self.y}])

    async def up(self) -> None:
        await self._send("touchEnd", [])


# Resolves once the page's clock has passed `t` (checked every frame).
PAST = """t => new Promise((done) => {
  const tick = () => (performance.now() > t ? done() : requestAnimationFrame(tick));
  tick();
})"""


async def long_press(page: Page, target: Locator) -> Locator:
    """Hold a finger on `target` until the action sheet opens (the wait polls), then lift."""
    finger = Finger(page)
    await finger.down_on(target)
    sheet = page.get_by_role("dialog", name="Message actions")
    await expect(sheet).to_be_visible()
    await finger.up()
    return sheet


async def open_phone_thread(
    phone: PhoneContext, world: World, page_errors: list[str], who: str, other: str
) -> Page:
    page = watch(await sign_in(await phone(), world[who]), page_errors)
    await conversation_link(page, other).tap()
    await expect(composer(page)).to_be_visible()
    return page


async def assert_target(target: Locator) -> None:
    box = await target.bounding_box()
    assert box is not None, target
    assert box["width"] >= 44, (target, box)
    assert box["height"] >= 44, (target, box)


async def test_a_long_press_opens_an_action_sheet_to_reply_react_copy_and_read_info(
    server: RunningServer, world: World, phone: PhoneContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["sam"], "How was your week?"))
    lily = await open_phone_thread(phone, world, page_errors, "lily", "Sam Clinician")
    await lily.context.grant_permissions(["clipboard-read", "clipboard-write"])
    question = message(lily, "How was your week?")
    await expect(question).to_be_visible()

    # The sheet is a modal dialog with focus inside; someone else's message cannot be
    # edited or deleted from it.
    sheet = await long_press(lily, question.locator("p.text"))
    assert await lily.evaluate("!!document.activeElement.closest('dialog.sheet')")
    await expect(sheet.locator(".sheet-preview")).to_contain_text("How was your week?")
    await expect(sheet.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    await expect(sheet.get_by_role("button", name="Delete", exact=True)).to_have_count(0)
    for target in await sheet.locator(".sheet-item, .sheet-emoji").all():
        await assert_target(target)
    assert await axe(lily) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await lily.screenshot(path=SCREENSHOTS / "client-action-sheet-360x740.png")

    # Reply: the sheet closes, the composer is replying.
    await sheet.get_by_role("button", name="Reply", exact=True).tap()
    await expect(sheet).to_be_hidden()
    await expect(lily.locator(".composer-context")).to_contain_text("Replying to Sam")
    await lily.get_by_role("button", name="Cancel reply").tap()

    # React from the row of quick emoji; the row then says the reaction is mine.
    sheet = await long_press(lily, question.locator("p.text"))
    await sheet.get_by_role("button", name="Heart", exact=True).tap()
    await expect(sheet).to_be_hidden()
    chip = question.locator(".chip")
    await expect(chip).to_have_attribute("aria-pressed", "true")
    await expect(chip).to_contain_text("❤️")
    sheet = await long_press(lily, question.locator("p.text"))
    await expect(
        sheet.get_by_role("button", name="Heart (remove your reaction)")
    ).to_have_attribute("aria-pressed", "true")

    # Copy: the text is on the clipboard.
    await sheet.get_by_role("button", name="Copy text").tap()
    await expect(sheet).to_be_hidden()
    await expect(lily.locator(".toast")).to_contain_text("Copied")
    assert await lily.evaluate("navigator.clipboard.readText()") == "How was your week?"

    # Info: who sent it and when.
    sheet = await long_press(lily, question.locator("p.text"))
    await sheet.get_by_role("button", name="Info").tap()
    info = lily.get_by_role("dialog", name="Message info")
    await expect(info).to_contain_text("Sam Clinician")
    await expect(info).to_contain_text("Sent")
    await info.get_by_role("button", name="Close").tap()
    await expect(info).to_be_hidden()

    # Escape, a tap outside, and Back each close it; Back stays in the thread.
    address = lily.url
    sheet = await long_press(lily, question.locator("p.text"))
    await lily.keyboard.press("Escape")
    await expect(sheet).to_be_hidden()
    sheet = await long_press(lily, question.locator("p.text"))
    await lily.touchscreen.tap(180, 60)
    await expect(sheet).to_be_hidden()
    sheet = await long_press(lily, question.locator("p.text"))
    await lily.go_back()
    await expect(sheet).to_be_hidden()
    assert lily.url == address
    await expect(question).to_be_visible()
    # Closing by other means gave the history entry back: one Back now leaves the thread.
    await lily.go_back()
    await expect(lily.locator("a.conv").first).to_be_visible()
    assert page_errors == []


async def test_a_long_press_on_my_own_message_edits_it_and_deletes_it(
    server: RunningServer, world: World, phone: PhoneContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["sam"], "Hello Lily"))
    lily = await open_phone_thread(phone, world, page_errors, "lily", "Sam Clinician")
    await composer(lily).fill("See you at 3")
    await composer(lily).press("Enter")
    mine = message(lily, "See you at 3")
    await expect(mine.locator(".ticks")).to_be_visible()

    sheet = await long_press(lily, mine.locator("p.text"))
    await sheet.get_by_role("button", name="Edit", exact=True).tap()
    await expect(sheet).to_be_hidden()
    await expect(lily.locator(".composer-context")).to_contain_text("Editing message")
    await expect(composer(lily)).to_have_value("See you at 3")
    await composer(lily).fill("See you at 4")
    await composer(lily).press("Enter")
    await expect(message(lily, "See you at 4")).to_contain_text("edited")

    # Info on my own message: sent, edited, and what the client knows of delivery.
    sheet = await long_press(lily, message(lily, "See you at 4").locator("p.text"))
    await sheet.get_by_role("button", name="Info").tap()
    info = lily.get_by_role("dialog", name="Message info")
    await expect(info).to_contain_text("Edited")
    await expect(info.locator("dd").last).to_have_text(
        "Sent, not yet delivered"
    )  # Sam has not opened careline
    await lily.keyboard.press("Escape")
    await expect(info).to_be_hidden()

    sheet = await long_press(lily, message(lily, "See you at 4").locator("p.text"))
    await sheet.get_by_role("button", name="Delete", exact=True).tap()
    confirm = lily.get_by_role("dialog", name="Delete message?")
    await confirm.get_by_role("button", name="Delete").tap()
    await expect(lily.locator(".text.redacted")).to_have_text("This message was deleted")
    await expect(lily.locator(".messages")).not_to_contain_text("See you at 4")

    # A deleted message has no actions: held past the long-press time, nothing opens.
    finger = Finger(lily)
    started = await lily.evaluate("performance.now()")
    await finger.down_on(lily.locator(".text.redacted"))
    await lily.evaluate(PAST, started + 800)
    await finger.up()
    await expect(lily.get_by_role("dialog", name="Message actions")).to_have_count(0)
    assert page_errors == []


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
async def test_swipe_right_replies_and_a_vertical_drag_still_scrolls(
    server: RunningServer, world: World, phone: PhoneContext, page_errors: list[str], motion: str
) -> None:
    await open_care(
        server,
        world["sam"],
        world["lily"],
        *[(world["sam"], f"Line number {i}") for i in range(30)],
    )
    lily = watch(await sign_in(await phone(reduced_motion=motion), world["lily"]), page_errors)
    await conversation_link(lily, "Sam Clinician").tap()
    last = message(lily, "Line number 29")
    await expect(last).to_be_in_viewport()
    finger = Finger(lily)

    # Dragging right shows the hint; past the threshold it is ready; letting go replies.
    await finger.down_on(last.locator("p.text"))
    await finger.move_by(30, 0, steps=3)
    hint = last.locator(".swipe-hint")
    await expect(hint).to_be_visible()
    await expect(hint).not_to_have_class("swipe-hint is-ready")
    await finger.move_by(60, 4, steps=6)
    await expect(hint).to_have_class("swipe-hint is-ready")
    moved = await last.locator(".msg-col").evaluate("el => el.style.transform")
    # The bubble follows the finger unless motion is reduced (then only the hint grows).
    assert (moved == "") == (motion == "reduce"), moved
    await finger.up()
    await expect(hint).to_have_count(0)
    await expect(lily.locator(".composer-context")).to_contain_text("Replying to Sam")
    await expect(lily.locator(".context-quote")).to_have_text("Line number 29")
    # Cancelled with Escape in the composer: with motion allowed, a synthetic tap sent
    # within milliseconds of the swipe's end brought no click in Chromium.
    await composer(lily).press("Escape")
    await expect(lily.locator(".composer-context")).to_be_hidden()

    # A short drag that is let go before the threshold does nothing.
    await finger.down_on(last.locator("p.text"))
    await finger.move_by(30, 0, steps=3)
    await finger.up()
    await expect(hint).to_have_count(0)
    await expect(lily.locator(".composer-context")).to_be_hidden()

    # A vertical drag scrolls the history: no reply, no sheet, and the long press it
    # began is cancelled by the movement (checked past the long-press time, in the
    # page's own clock).
    scroller = lily.locator(".scroller")
    before = await scroller.evaluate("el => el.scrollTop")
    started = await lily.evaluate("performance.now()")
    await finger.down_on(message(lily, "Line number 25").locator("p.text"))
    await finger.move_by(6, 220, steps=10)
    await lily.evaluate(PAST, started + 800)
    await finger.up()
    assert await scroller.evaluate("el => el.scrollTop") < before
    await expect(lily.get_by_role("dialog", name="Message actions")).to_have_count(0)
    await expect(lily.locator(".composer-context")).to_be_hidden()
    assert page_errors == []


async def test_every_touch_target_is_at_least_44_px_on_a_phone(
    server: RunningServer, world: World, phone: PhoneContext, page_errors: list[str]
) -> None:
    await open_care(server, world["sam"], world["lily"], (world["sam"], "Hello Lily"))
    lily = await open_phone_thread(phone, world, page_errors, "lily", "Sam Clinician")
    hello = message(lily, "Hello Lily")
    sheet = await long_press(lily, hello.locator("p.text"))
    await sheet.get_by_role("button", name="Thumbs up").tap()
    await expect(hello.locator(".chip")).to_be_visible()

    # The composer's buttons, the header's, a reaction chip, and (in reply mode) Cancel.
    for target in [
        lily.get_by_role("button", name="Send message"),
        lily.get_by_role("button", name="Attach files"),
        lily.get_by_role("link", name="Back to conversations"),
        lily.get_by_role("button", name="Mute notifications"),
        hello.locator(".chip"),
    ]:
        await assert_target(target)
    sheet = await long_press(lily, hello.locator("p.text"))
    await sheet.get_by_role("button", name="Reply", exact=True).tap()
    await assert_target(lily.get_by_role("button", name="Cancel reply"))

    # The toolbar's tools too, when a keyboard brings them up on the phone.
    await composer(lily).press("Escape")
    await tab_until(lily, "el.matches('li.msg')", backwards=True)
    await lily.keyboard.press("ArrowUp")
    await expect(hello).to_be_focused()
    await lily.keyboard.press("Tab")
    tools = hello.locator(".toolbar .tool")
    await expect(tools.first).to_be_visible()
    for target in await tools.all():
        await assert_target(target)
    assert page_errors == []


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


async def test_the_desktop_toolbar_never_covers_the_text_and_goes_after_an_action(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    long_text = "A long message that fills the bubble to its widest " * 6
    await open_care(
        server, world["sam"], world["lily"], (world["lily"], long_text), (world["lily"], "Hi")
    )
    sam = watch(await sign_in(await new_context(DESKTOP), world["sam"]), page_errors)
    await conversation_link(sam, "Lily Client").click()
    await composer(sam).fill("Mine, wide as well " * 8)
    await composer(sam).press("Enter")
    await expect(message(sam, "Mine, wide").locator(".ticks")).to_be_visible()
    await composer(sam).fill("Ok")
    await composer(sam).press("Enter")
    await expect(message(sam, "Ok").locator(".ticks")).to_be_visible()

    # Theirs and mine, short and at the widest: the toolbar sits beside the bubble.
    for text in [long_text.strip()[:30], "Hi", "Mine, wide", "Ok"]:
        row = message(sam, text)
        await row.locator("p.text").hover()
        toolbar = row.locator(".toolbar")
        await expect(toolbar).to_be_visible()
        bar = await toolbar.bounding_box()
        words = await row.locator("p.text").bounding_box()
        bubble = await row.locator(".bubble").bounding_box()
        assert bar
        assert words
        assert bubble
        assert not overlaps(bar, words), (text, bar, words)
        assert not overlaps(bar, bubble), (text, bar, bubble)
        assert bar["x"] >= 0
        assert bar["x"] + bar["width"] <= DESKTOP["width"]

    await message(sam, "Hi").locator("p.text").hover()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await sam.screenshot(path=SCREENSHOTS / "staff-toolbar-1280x800.png")

    # Reply with the pointer: the toolbar goes although the pointer is still there...
    hi = message(sam, "Hi")
    await hi.locator("p.text").hover()
    await hi.get_by_role("button", name="Reply", exact=True).click()
    await expect(sam.locator(".composer-context")).to_contain_text("Replying to Lily")
    await expect(hi.locator(".toolbar")).to_be_hidden()
    # ...and comes back once the pointer has left and returns.
    await sam.mouse.move(5, 5)
    await hi.locator("p.text").hover()
    await expect(hi.locator(".toolbar")).to_be_visible()

    # A reaction chosen from its menu: gone too.
    await hi.get_by_role("button", name="React", exact=True).click()
    await sam.get_by_role("menuitem", name="Heart").click()
    await expect(hi.locator(".chip")).to_contain_text("❤️")
    await expect(hi.locator(".toolbar")).to_be_hidden()

    # Escape sends it away as well, and leaving the message hides it.
    await sam.mouse.move(5, 5)
    await expect(hi.locator(".toolbar")).to_be_hidden()
    await hi.locator("p.text").hover()
    await expect(hi.locator(".toolbar")).to_be_visible()
    await hi.get_by_role("button", name="More actions").focus()
    await sam.keyboard.press("Escape")
    await expect(hi.locator(".toolbar")).to_be_hidden()
    await expect(hi).to_be_focused()

    # Info is in the toolbar's menu too.
    ok = message(sam, "Ok")
    await ok.locator("p.text").hover()
    await ok.get_by_role("button", name="More actions").click()
    await sam.get_by_role("menuitem", name="Info").click()
    info = sam.get_by_role("dialog", name="Message info")
    await expect(info).to_contain_text("You")
    await expect(info).to_contain_text("Sent, not yet delivered")
    await sam.keyboard.press("Escape")
    await expect(info).to_be_hidden()
    assert page_errors == []


LINKS = [
    ("https://care.example/plan?week=2#today", "https://care.example/plan?week=2#today", True),
    ("http://old.example/leaflet.pdf", "http://old.example/leaflet.pdf", True),
    ("mailto:desk@clinic.example", "mailto:desk@clinic.example", False),
    ("tel:+441234567890", "tel:+441234567890", False),
]
STAYS_TEXT = [
    "javascript:alert(1)",
    "data:text/html,<script>window.pwned=1</script>",
    'https://x.example/"><img src=x onerror="window.pwned=2">',
    "https://bank.example@evil.example/login",
    "ftp://files.example/a",
    "vbscript:msgbox(1)",
]


async def test_links_in_messages_are_clickable_and_only_when_safe(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    texts = [f"Look: {link} thanks" for link, _, _ in LINKS]
    texts += ["see https://x.example/a.", "(at https://x.example/b) and https://x.example/c?"]
    texts += STAYS_TEXT
    await open_care(server, world["sam"], world["lily"], *[(world["sam"], t) for t in texts])
    context = await new_context()
    outside: list[tuple[str, str | None]] = []

    async def answer(route: Route) -> None:
        outside.append((route.request.url, await route.request.header_value("referer")))
        await route.fulfill(body="elsewhere", content_type="text/plain")

    await context.route(lambda url: not url.startswith(server.base_url), answer)
    lily = watch(await sign_in(context, world["lily"]), page_errors)
    await conversation_link(lily, "Sam Clinician").click()

    for written, href, web in LINKS:
        link = message(lily, f"Look: {written}").locator("a")
        await expect(link).to_have_count(1)
        # The whole address is the link's text.
        await expect(link).to_have_text(written)
        await expect(link).to_have_attribute("href", href)
        await expect(link).to_have_attribute("rel", "noopener noreferrer")
        if web:
            await expect(link).to_have_attribute("target", "_blank")
        else:
            assert await link.get_attribute("target") is None
        await expect(message(lily, f"Look: {written}").locator("p.text")).to_have_text(
            f"Look: {written} thanks"
        )

    # Sentence punctuation and a closing bracket are not part of the address.
    dot = message(lily, "see https://x.example/a.").locator("a")
    await expect(dot).to_have_attribute("href", "https://x.example/a")
    await expect(dot).to_have_text("https://x.example/a")
    both = message(lily, "(at https://x.example/b)").locator("a")
    await expect(both).to_have_text(["https://x.example/b", "https://x.example/c"])

    # Other schemes, markup and a user name that hides the host stay text; the one
    # https address at the start of the markup attempt links only up to the quote.
    for text in STAYS_TEXT:
        await expect(message(lily, text[:20]).locator("p.text")).to_have_text(text)
    assert (
        await lily.locator(".messages a[href^='javascript'], .messages a[href^='data']").count()
        == 0
    )
    markup = message(lily, 'https://x.example/">').locator("a")
    await expect(markup).to_have_attribute("href", "https://x.example/")
    assert await lily.locator(".messages img, .messages script").count() == 0
    assert await message(lily, "bank.example").locator("a").count() == 0
    assert await message(lily, "ftp://").locator("a").count() == 0

    # Nothing was fetched for a preview. Clicking opens the address in a new tab, with no
    # referrer and no way back to careline's window.
    assert outside == []
    async with context.expect_page() as opened:
        await message(lily, "Look: https://care.example").locator("a").click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == "https://care.example/plan?week=2#today"
    assert outside == [("https://care.example/plan?week=2", None)]
    assert await tab.evaluate("window.opener") is None
    await tab.close()
    assert await lily.evaluate("window.pwned") is None
    assert page_errors == []
