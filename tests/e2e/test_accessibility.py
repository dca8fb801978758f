"""axe-core, run inside the page, finds no serious or critical problem on the main pages:
sign-in, the staff inbox and a thread (desktop and phone), the family portal, the
new-message dialog and the admin pages. axe.min.js comes from the axe-playwright-python
wheel (a dev dependency), so nothing is fetched at test time."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.base import AXE_FILE_PATH
from playwright.async_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewContext, watch
from tests.e2e.showcase import make_showcase
from tests.e2e.support import conversation_link, message, sign_in
from tests.support.server import RunningServer

AXE = AXE_FILE_PATH.read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


async def axe(page: Page) -> list[dict[str, Any]]:
    """Violations of impact serious or critical, each with the elements at fault."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        # Evaluated over the DevTools protocol, which the page's CSP does not govern
        # (the CSP itself stays as strict as in production).
        await page.evaluate(AXE)
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_main_pages_have_no_serious_accessibility_violations(
    server: RunningServer, new_context: NewContext, page_errors: list[str]
) -> None:
    show = await make_showcase(server.base_url)
    found: dict[str, list[dict[str, Any]]] = {}

    page = watch(await (await new_context(PHONE)).new_page(), page_errors)
    await page.goto("/")
    await expect(page.get_by_label("E-mail address")).to_be_visible()
    found["sign-in"] = await axe(page)

    page = watch(await sign_in(await new_context(DESKTOP), show["sam"]), page_errors)
    await expect(conversation_link(page, "Lily Chen")).to_be_visible()
    found["staff inbox"] = await axe(page)
    await conversation_link(page, "Lily Chen").click()
    await expect(message(page, "notebook")).to_be_visible()
    await message(page, "notebook").focus()  # its toolbar shows: checked too
    found["staff thread"] = await axe(page)
    await message(page, "notebook").get_by_role("button", name="React", exact=True).click()
    await expect(page.get_by_role("menu", name="Reactions")).to_be_visible()
    found["reaction menu"] = await axe(page)
    await page.keyboard.press("Escape")
    await message(page, "See you on Thursday").hover()
    await message(page, "See you on Thursday").get_by_role("button", name="More actions").click()
    await expect(page.get_by_role("menu", name="Message actions")).to_be_visible()
    found["message menu"] = await axe(page)
    await page.get_by_role("menuitem", name="Delete").click()
    await expect(page.get_by_role("dialog", name="Delete message?")).to_be_visible()
    found["confirm dialog"] = await axe(page)
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="New message").click()
    await expect(page.get_by_role("dialog", name="New message")).to_be_visible()
    await expect(page.get_by_role("button", name="Lily Chen")).to_be_visible()
    found["new message dialog"] = await axe(page)
    await page.keyboard.press("Escape")
    await page.goto(f"/c/{show.conversations['noa']}")
    await expect(message(page, "Thursday works")).to_be_visible()
    found["thread with Hebrew"] = await axe(page)

    page = watch(await sign_in(await new_context(PHONE), show["grace"]), page_errors)
    await expect(conversation_link(page, "Dr Sam Patel")).to_be_visible()
    found["guardian inbox (phone)"] = await axe(page)
    await conversation_link(page, "Dr Sam Patel").click()
    await expect(message(page, "notebook")).to_be_visible()
    found["guardian thread (phone)"] = await axe(page)

    page = watch(
        await sign_in(await new_context(DESKTOP), show["admin"], "/admin/people"), page_errors
    )
    await expect(page.get_by_role("cell", name="Noa Levi")).to_be_visible()
    found["admin people"] = await axe(page)
    await page.get_by_role("button", name="Add person").click()
    adding = page.get_by_role("dialog", name="Add a person")
    await adding.get_by_label("Full name").fill("Riley Ward")
    await adding.get_by_label("E-mail address").fill("riley@showcase.test")
    await adding.get_by_role("button", name="Add person").click()
    invited = page.get_by_role("dialog", name="Riley Ward was invited")
    await expect(invited).to_be_visible()
    found["invitation link dialog"] = await axe(page)
    link = await invited.get_by_label("Invitation link").text_content()
    assert link
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("region", name="Invited, not yet joined")).to_be_visible()
    found["admin people with invitations"] = await axe(page)
    await page.get_by_role("link", name="Care teams").click()
    await expect(page.get_by_role("group", name="Care team of")).to_be_visible()
    found["admin care teams"] = await axe(page)
    await page.get_by_role("link", name="Overview").click()
    await expect(page.get_by_role("region", name="Needs attention")).to_be_visible()
    await expect(page.get_by_role("link", name="People", exact=False).first).to_be_visible()
    found["admin home"] = await axe(page)
    await page.get_by_role("link", name="Settings").first.click()
    await expect(page.get_by_role("radio", name="Any client of the organisation")).to_be_visible()
    found["admin settings"] = await axe(page)
    await page.get_by_role("link", name="People", exact=True).click()
    await (
        page.locator("tbody tr")
        .filter(has_text="Noa Levi")
        .get_by_role("button", name="Devices")
        .click()
    )
    await expect(page.get_by_role("dialog", name="Noa Levi: signed-in devices")).to_be_visible()
    found["devices dialog"] = await axe(page)
    await page.keyboard.press("Escape")

    page = watch(await (await new_context(PHONE)).new_page(), page_errors)
    await page.goto(link.removeprefix(server.base_url))
    await expect(page.get_by_role("heading", name="Join")).to_be_visible()
    found["invite page (phone)"] = await axe(page)

    problems = {name: violations for name, violations in found.items() if violations}
    assert problems == {}
    assert page_errors == []
