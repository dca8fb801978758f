"""careline installs as an app: a valid manifest with real icons, a service worker that
controls the page, Chromium reports nothing blocking installation, and the app shell
opens without a network."""

from __future__ import annotations

import struct

from playwright.async_api import expect

from tests.e2e.conftest import NewContext, watch
from tests.support.server import RunningServer


async def test_manifest_icons_and_service_worker_make_careline_installable(
    server: RunningServer, new_context: NewContext, page_errors: list[str]
) -> None:
    context = await new_context(service_workers="allow")
    page = watch(await context.new_page(), page_errors)
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    manifest_response = await page.request.get("/manifest.webmanifest")
    assert manifest_response.headers["content-type"] == "application/manifest+json"
    manifest = await manifest_response.json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    sizes = {}
    for entry in manifest["icons"]:
        icon = await page.request.get(entry["src"])
        assert icon.ok, entry["src"]
        body = await icon.body()
        if entry["type"] == "image/png":
            assert body[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", body[16:24])
            assert f"{width}x{height}" == entry["sizes"]
            sizes[entry["sizes"]] = entry.get("purpose", "any")
    assert {"192x192", "512x512"} <= set(sizes)

    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.reload()
    assert await page.evaluate("!!navigator.serviceWorker.controller")
    cdp = await context.new_cdp_session(page)
    parsed = await cdp.send("Page.getAppManifest")
    assert parsed["errors"] == []
    # Chromium checks everything else even in a private context (which it names too):
    # a missing manifest, icon or worker would be listed here.
    errors = await cdp.send("Page.getInstallabilityErrors")
    assert [e["errorId"] for e in errors["installabilityErrors"]] in ([], ["in-incognito"])
    assert page_errors == []


async def test_the_app_shell_opens_offline_and_recovers_when_back_online(
    server: RunningServer, new_context: NewContext, page_errors: list[str]
) -> None:
    context = await new_context(service_workers="allow")
    page = await context.new_page()
    await page.goto("/")
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    await context.set_offline(True)
    await page.reload()
    # The shell came from the worker's cache; the API cannot be reached, and it says so.
    await expect(page.get_by_role("heading", name="careline cannot be reached")).to_be_visible()
    await context.set_offline(False)
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
