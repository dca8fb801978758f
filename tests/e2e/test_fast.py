"""What makes careline quick on a phone, seen from the browser: an anonymous visit
finds out it is signed out without a failing request (the console stays clean), and
every module the app loads was announced up front by a modulepreload link."""

from __future__ import annotations

from playwright.async_api import ConsoleMessage, Page, Request, Response, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewContext
from tests.e2e.support import sign_in
from tests.support.server import RunningServer
from tests.support.world import World


def listen(page: Page) -> tuple[list[str], list[str]]:
    """Every console error (the browser's own "Failed to load resource" included) and
    every failed response, and the path of every script the page requests."""
    errors: list[str] = []
    scripts: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    def on_request(request: Request) -> None:
        if request.resource_type == "script":
            scripts.append("/" + request.url.split("/", 3)[3])

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", on_request)
    page.on("response", on_response)
    return errors, scripts


async def test_an_anonymous_visit_has_no_console_error(new_context: NewContext) -> None:
    for viewport in (PHONE, DESKTOP):
        page = await (await new_context(viewport)).new_page()
        errors, _ = listen(page)
        await page.goto("/")
        await expect(page.get_by_label("E-mail address")).to_be_visible()
        await page.goto("/c/00000000-0000-4000-8000-000000000000")  # a deep link, signed out
        await expect(page.get_by_label("E-mail address")).to_be_visible()
        assert errors == []


async def test_every_module_loaded_was_preloaded(
    server: RunningServer, new_context: NewContext, world: World
) -> None:
    page = await (await new_context(PHONE)).new_page()
    _, scripts = listen(page)
    await page.goto("/")
    await expect(page.get_by_label("E-mail address")).to_be_visible()
    preloaded = await page.eval_on_selector_all(
        'link[rel="modulepreload"]', "links => links.map(l => new URL(l.href).pathname)"
    )
    modules = [s for s in scripts if s.startswith("/js/")]
    assert "/js/main.js" in modules
    assert set(modules) - {"/js/main.js"} <= set(preloaded)
    assert set(preloaded) <= set(modules)  # nothing preloaded that is not used
    # Signed in, the app loads nothing the shell did not preload either.
    signed = await sign_in(await new_context(PHONE), world["sam"])
    _, later = listen(signed)
    await signed.reload()
    await expect(signed.locator("nav.sidebar")).to_be_visible()
    assert {s for s in later if s.startswith("/js/")} - {"/js/main.js"} <= set(preloaded)
