"""The API reference at /api/v1/docs renders every operation in a real browser, from
careline's own files, under the same strict Content Security Policy as the client: no
CDN, no inline script, nothing refused."""

from __future__ import annotations

from playwright.async_api import Request, expect

from tests.e2e.conftest import NewContext, watch
from tests.support.server import RunningServer


async def test_the_api_docs_render_the_operations_under_the_strict_csp(
    server: RunningServer, new_context: NewContext, page_errors: list[str]
) -> None:
    context = await new_context()
    page = watch(await context.new_page(), page_errors)
    fetched: list[str] = []

    def record(request: Request) -> None:
        fetched.append(request.url)

    page.on("request", record)
    await page.goto("/api/v1/docs")
    await expect(page.get_by_role("heading", name="careline")).to_be_visible()
    sign_in = page.locator(".opblock-summary-path", has_text="/api/v1/auth/login")
    await expect(sign_in).to_be_visible()
    assert await page.locator(".opblock").count() > 20
    assert all(url.startswith(server.base_url) for url in fetched), fetched
    refused = [e for e in page_errors if "Content Security Policy" in e or "Refused" in e]
    assert refused == []
    assert page_errors == []
