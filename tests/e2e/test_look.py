"""Screenshots of the finished product at phone and desktop sizes, for people to look
at: saved under test-artifacts/screenshots/ (docs/web.md). The same pages are checked
for what a screenshot cannot show: right-to-left text laid out right to left."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.showcase import ARABIC, HEBREW, make_showcase
from tests.e2e.support import conversation_link, message, sign_in
from tests.support.server import RunningServer
from tests.support.ws import connect


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.mouse.move(0, 0)
    await page.wait_for_timeout(150)  # let the last frame paint
    await page.screenshot(path=SCREENSHOTS / f"{name}.png")


async def test_screenshots_of_inbox_and_thread_at_phone_and_desktop_sizes(
    server: RunningServer, new_context: NewContext, page_errors: list[str]
) -> None:
    show = await make_showcase(server.base_url)
    async with connect(server.ws_url, show["lily"].token) as lily_socket:
        for size, viewport in (("1280x800", DESKTOP), ("360x740", PHONE)):
            context = await new_context(viewport)
            page = watch(await sign_in(context, show["sam"]), page_errors)
            await expect(conversation_link(page, "Noa Levi").locator(".badge")).to_have_text("2")
            await expect(conversation_link(page, "Lily Chen")).to_contain_text("Lily")
            await shoot(page, f"staff-inbox-{size}")

            await conversation_link(page, "Lily Chen").click()
            await expect(message(page, "notebook")).to_be_visible()
            await expect(page.locator(".receipt-line")).to_contain_text("Seen by Lily")
            await expect(page.locator(".thread-status")).to_have_text("Lily is online")
            await lily_socket.request(
                "typing.start", conversation_id=str(show.conversations["lily"])
            )
            await expect(page.locator(".typing-row")).to_contain_text("Lily is typing")
            await page.locator("#composer-input").blur()
            await shoot(page, f"staff-thread-{size}")
            await lily_socket.request(
                "typing.stop", conversation_id=str(show.conversations["lily"])
            )

        # Hebrew and Arabic run right to left beside English (the last page: a phone).
        await page.goto(f"/c/{show.conversations['noa']}")
        hebrew = message(page, HEBREW).locator("p.text")
        english = message(page, "Thursday works for me").locator("p.text")
        assert await hebrew.evaluate("el => el.matches(':dir(rtl)')")
        assert await english.evaluate("el => el.matches(':dir(ltr)')")
        await shoot(page, "staff-thread-rtl-360x740")
        await page.goto(f"/c/{show.conversations['yusuf']}")
        arabic = message(page, ARABIC).locator("p.text")
        assert await arabic.evaluate("el => el.matches(':dir(rtl)')")
        preview = conversation_link(page, "Yusuf Demir").locator(".conv-preview")
        await page.get_by_role("link", name="Back to conversations").click()
        assert await preview.evaluate("el => el.matches(':dir(rtl)')")

        # The portal as a parent sees it on a phone.
        context = await new_context(PHONE)
        page = watch(await sign_in(context, show["grace"]), page_errors)
        await expect(page.get_by_label("Acting for")).to_have_value(str(show["lily"].account_id))
        await shoot(page, "guardian-inbox-360x740")
        await conversation_link(page, "Dr Sam Patel").click()
        await expect(message(page, "notebook")).to_be_visible()
        await shoot(page, "guardian-thread-360x740")

        context = await new_context(DESKTOP)
        page = watch(await sign_in(context, show["admin"], "/admin/people"), page_errors)
        await expect(page.get_by_role("cell", name="Noa Levi")).to_be_visible()
        await shoot(page, "admin-people-1280x800")
        await page.get_by_role("link", name="Care teams").click()
        await expect(page.get_by_role("group", name="Care team of")).to_be_visible()
        await shoot(page, "admin-care-1280x800")
        await page.get_by_role("link", name="Overview").click()
        await expect(page.get_by_role("region", name="Needs attention")).to_be_visible()
        await expect(page.locator(".admin-card")).to_have_count(3)
        await shoot(page, "admin-home-1280x800")
        await page.get_by_role("link", name="Settings", exact=True).click()
        await expect(
            page.get_by_role("radio", name="Any client of the organisation")
        ).to_be_visible()
        await shoot(page, "admin-settings-1280x800")
        phone = watch(await sign_in(await new_context(PHONE), show["admin"], "/admin"), page_errors)
        await expect(phone.get_by_role("region", name="Needs attention")).to_be_visible()
        await expect(phone.locator(".admin-card")).to_have_count(3)
        await shoot(phone, "admin-home-360x740")
        await page.get_by_role("link", name="Messages").click()
        await page.get_by_role("button", name="New message").first.click()
        await expect(page.get_by_role("button", name="Lily Chen")).to_be_visible()
        await shoot(page, "new-message-1280x800")
    assert page_errors == []
