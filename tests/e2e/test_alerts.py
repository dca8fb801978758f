"""The alerts panel on the monitoring page: an alert raised while the admin looks
appears at the top, live, and leaves when it clears, staying in the history. At 360 px
too. The evaluator is driven with the values and moments the test chooses."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from careline import config
from careline.kit import clock
from careline.monitoring import alerts
from careline.monitoring.alerts import Reading
from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import sign_in
from tests.support.server import RunningServer
from tests.support.world import World


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_admin_sees_an_alert_raised_and_cleared_live(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    viewport: dict[str, int],
) -> None:
    settings = server.settings.model_copy(
        update={"alerts_raise_after": 2, "alerts_clear_after": 2, "alert_sign_in_failures": 20}
    )
    config.use(settings)
    try:
        page = watch(
            await sign_in(await new_context(viewport), world["admin"], "/admin/monitoring"),
            page_errors,
        )
        panel = page.get_by_role("region", name="Alerts")
        await expect(panel).to_contain_text("No alerts.")

        t = clock.now()
        burst = [Reading(alerts.SIGN_IN_FAILURES, 40.0, tenant_id=world.tenant_id)]
        changed = []
        for i in range(2):
            changed += (
                await alerts.evaluate(burst, now=t + dt.timedelta(seconds=i), settings=settings)
                or []
            )
        [raised] = [a for a in changed if a.tenant_id == world.tenant_id]
        opened = panel.get_by_role("list", name="Open now").get_by_role("listitem")
        await expect(opened).to_have_count(1)
        await expect(opened.first).to_contain_text("Many failed sign-ins")
        await expect(opened.first).to_contain_text("40 in 5 minutes (limit 20)")
        await expect(opened.first).to_contain_text("This organisation")
        # The history holds the instance's alerts of other tests too: this one is on top.
        rows = panel.locator(f'tbody tr[data-alert-id="{raised.id}"]')
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Still open")
        await expect(panel.locator("tbody tr").first).to_have_attribute(
            "data-alert-id", str(raised.id)
        )
        name = "desktop" if viewport == DESKTOP else "phone"
        await page.screenshot(path=SCREENSHOTS / f"alerts-{name}.png", full_page=True)

        for i in range(2, 4):
            await alerts.evaluate([], now=t + dt.timedelta(seconds=i), settings=settings)
        await expect(opened).to_have_count(0)
        await expect(panel).to_contain_text("No alerts.")
        await expect(rows).to_have_count(1)
        await expect(rows.first).not_to_contain_text("Still open")

        # A fresh look shows the same: nothing open, the cleared one in the history.
        await page.reload()
        panel = page.get_by_role("region", name="Alerts")
        await expect(panel).to_contain_text("No alerts.")
        again = panel.locator(f'tbody tr[data-alert-id="{raised.id}"]')
        await expect(again).to_have_count(1)
        await expect(again).to_contain_text("Many failed sign-ins")
        await expect(again).not_to_contain_text("Still open")
        assert page_errors == []
    finally:
        config.use(server.settings)


async def test_the_bell_tells_the_admin_and_opens_the_monitoring_page(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    settings = server.settings.model_copy(
        update={"alerts_raise_after": 1, "alerts_clear_after": 1, "alert_sign_in_failures": 20}
    )
    config.use(settings)
    try:
        page = watch(
            await sign_in(await new_context(DESKTOP), world["admin"], "/admin"), page_errors
        )
        t = clock.now()
        burst = [Reading(alerts.SIGN_IN_FAILURES, 40.0, tenant_id=world.tenant_id)]
        await alerts.evaluate(burst, now=t, settings=settings)
        bell = page.locator(".bell-btn")
        await expect(bell).to_have_accessible_name("Notifications, 1 unread")
        await bell.click()
        item = page.locator(".bell-item")
        await expect(item).to_have_count(1)
        await expect(item.locator(".bell-name")).to_have_text("Monitoring")
        await expect(item.locator(".bell-what")).to_have_text("An alert was raised")
        await item.locator("a.bell-open").click()
        await page.wait_for_url("**/admin/monitoring")
        opened = page.get_by_role("list", name="Open now").get_by_role("listitem")
        await expect(opened).to_have_count(1)
        await expect(bell).to_have_accessible_name("Notifications")
        await alerts.evaluate([], now=t + dt.timedelta(seconds=1), settings=settings)
        await expect(opened).to_have_count(0)
        assert page_errors == []
    finally:
        config.use(server.settings)
