"""The monitoring dashboard in the browser (issue 12 item 3): it moves as the test sends
messages and as people connect, at desktop and phone widths; operators switch to the
whole instance, admins who are not operators are not offered it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from careline import config
from careline.monitoring import live
from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import open_care, sign_in
from tests.e2e.test_accessibility import axe
from tests.monitoring.support import make_operator
from tests.support.clamd import Clamd
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect

SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.fixture
def quick(server: RunningServer) -> Iterator[None]:
    config.use(server.settings.model_copy(update={"monitor_interval_seconds": 0.3}))
    yield
    config.use(server.settings)


def tile(page: Page, name: str) -> Locator:
    return page.locator(f'[data-tile="{name}"] [data-value]')


async def send(server: RunningServer, world: World, conversation: str, n: int, tag: str) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        for i in range(n):
            sent = await http.post(
                f"/api/v1/conversations/{conversation}/messages",
                json={"client_msg_id": f"{tag}-{i}", "text": "a private word"},
                headers=world["sam"].auth,
            )
            assert sent.status_code == 201, sent.text


@pytest.mark.parametrize("size", SIZES)
async def test_the_dashboard_moves_when_messages_are_sent_and_people_connect(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    quick: None,
    size: dict[str, int],
) -> None:
    conversation = await open_care(server, world["sam"], world["lily"])
    page = watch(
        await sign_in(await new_context(size), world["admin"], "/admin/monitoring"), page_errors
    )
    await expect(page.get_by_role("heading", name="Monitoring")).to_be_visible()
    await expect(tile(page, "people")).to_have_text("1")  # the admin's own page
    await expect(tile(page, "active")).to_have_text("0")
    chart = page.get_by_role(
        "img", name="Messages per minute over the last hour: 0 this minute, 0 in all"
    )
    await expect(chart).to_be_visible()
    # Operators only: this admin is not one.
    await expect(page.get_by_role("radio", name="Whole instance")).to_be_hidden()

    await send(server, world, conversation, 4, "a")
    await expect(page.locator('[data-tile="messages"]')).to_contain_text("4 in the last hour")
    await expect(tile(page, "active")).to_have_text("1")
    await send(server, world, conversation, 3, "b")
    await expect(page.locator('[data-tile="messages"]')).to_contain_text("7 in the last hour")
    async with (
        connect(server.ws_url, world["lily"].token),
        connect(server.ws_url, world["sam"].token),
    ):
        await expect(tile(page, "people")).to_have_text("3")
    await expect(tile(page, "people")).to_have_text("1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"monitoring-{size['width']}.png", full_page=True)
    # Nothing on the page overflows the phone's width.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], width
    assert page_errors == []


async def test_an_operator_switches_to_the_whole_instance(
    server: RunningServer,
    world: World,
    other_world: World,
    new_context: NewContext,
    page_errors: list[str],
    quick: None,
) -> None:
    await make_operator(world["admin"])
    page = watch(
        await sign_in(await new_context(), world["admin"], "/admin/monitoring"), page_errors
    )
    body = page.locator(".mon-body")
    await expect(body).to_have_attribute("data-scope", "tenant")
    await page.get_by_role("radio", name="Whole instance").check()
    await expect(body).to_have_attribute("data-scope", "instance")
    # Another organisation's messages count on the instance's dashboard.
    before = await page.locator('[data-tile="messages"] .mon-tile-detail').text_content()
    await send(
        server,
        other_world,
        await open_care(server, other_world["sam"], other_world["lily"]),
        2,
        "o",
    )
    await expect(page.locator('[data-tile="messages"] .mon-tile-detail')).not_to_have_text(
        before or ""
    )
    await page.get_by_role("radio", name="This organisation").check()
    await expect(body).to_have_attribute("data-scope", "tenant")
    await expect(page.locator('[data-tile="messages"]')).to_contain_text("0 in the last hour")
    key = ("tenant", world.tenant_id)
    assert live.current().watchers(key) == 1
    # Leaving the page stops watching: no more snapshots are built for it.
    await page.get_by_role("link", name="People").click()
    await expect(page.get_by_role("heading", name="People")).to_be_visible()
    deadline = time.monotonic() + 10
    while live.current().watchers(key):
        assert time.monotonic() < deadline, "the page left, its socket still watches"
        await asyncio.sleep(0.05)  # a poll: it ends as soon as the unsubscribe lands
    assert page_errors == []


async def test_a_part_stopped_shows_down_and_up_again_when_it_returns(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    tmp_path: Path,
) -> None:
    # The dashboard checks a clamd of this test's own: stopping it disturbs nobody else.
    own = Clamd(tmp_path / "clamd")
    own.start()
    config.use(
        server.settings.model_copy(
            update={"monitor_interval_seconds": 0.3, "clamd_address": f"unix:{own.socket}"}
        )
    )
    try:
        page = watch(
            await sign_in(await new_context(), world["admin"], "/admin/monitoring"), page_errors
        )
        clamd = page.locator('[data-part="clamd"]')
        await expect(clamd).to_have_attribute("data-state", "up")
        await expect(page.locator('[data-part="postgres"]')).to_have_attribute("data-state", "up")
        await expect(page.locator('[data-part="smtp"]')).to_contain_text("Not configured")
        assert await axe(page) == []  # no serious or critical accessibility problem
        own.stop()
        await expect(clamd).to_have_attribute("data-state", "down")
        await expect(clamd).to_contain_text("Down")
        await expect(clamd).to_contain_text("no_answer")
        own.start()
        await expect(clamd).to_have_attribute("data-state", "up")
        assert page_errors == []
    finally:
        config.use(server.settings)
        own.stop()
