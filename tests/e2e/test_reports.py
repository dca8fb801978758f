"""The admin's reports page: a known month's figures as tiles, a bar per day in the
charts, the tables by staff member and care team, another month picked, the CSV
downloaded, and the page fitting a phone."""

from __future__ import annotations

import csv
import io

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, NewContext, watch
from tests.e2e.support import sign_in
from tests.reports.test_reports import march
from tests.support.server import RunningServer
from tests.support.world import World


async def test_the_admin_reads_a_months_reports(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        await march(http, world)
    page = watch(
        await sign_in(await new_context(DESKTOP), world["admin"], "/admin/reports"), page_errors
    )
    # The month is in the page's address, so a report can be linked to and reloaded.
    await page.goto("/admin/reports?month=2026-03")
    await expect(page.get_by_role("heading", name="Usage · March 2026")).to_be_visible()
    usage = page.locator("section.report-block").first
    await expect(usage.locator('[data-figure="messages"] .report-tile-value')).to_have_text("9")
    await expect(usage.locator('[data-figure="active"] .report-tile-value')).to_have_text("4")
    await expect(usage.locator('[data-figure="files"] .report-tile-value')).to_have_text("1")
    active = page.get_by_role("img", name="People active each day of March 2026")
    await expect(active.locator(".report-bar")).to_have_count(31)
    await expect(active.locator('.report-bar[data-key="2026-03-02"]')).to_have_attribute(
        "data-total", "2"
    )
    messages = page.get_by_role("img", name="Messages each day of March 2026")
    second = messages.locator('.report-bar[data-key="2026-03-02"]')
    await expect(second.locator("rect")).to_have_count(2)  # from staff, from clients
    await expect(second.locator("title")).to_have_text(
        "2 Mar: From staff 1, From clients and guardians 2"
    )
    await expect(page.locator('[data-table="weeks"] tbody tr')).to_have_count(6)

    engagement = page.locator("section.report-block").nth(1)
    await expect(engagement.get_by_role("heading", name="Engagement · March 2026")).to_be_visible()
    await expect(engagement.locator('[data-figure="median"] .report-tile-value')).to_have_text(
        "1 h"
    )
    staff = engagement.locator('[data-table="staff"] tbody tr')
    await expect(staff).to_have_count(2)
    await expect(staff.nth(0)).to_contain_text("Jo Clinician")
    await expect(staff.nth(1)).to_contain_text("Sam Clinician")
    await expect(staff.nth(1).locator("td").nth(2)).to_have_text("1 h")
    teams = engagement.locator('[data-table="team"] tbody tr')
    await expect(teams.nth(0)).to_contain_text("Lily Client")
    assert "MARKER-REPORT" not in await page.content()

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Usage as CSV").click()
    download = await downloading.value
    assert download.suggested_filename == "careline-usage-2026-03.csv"
    saved = await download.path()
    assert saved is not None
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert (rows[0]["period"], rows[0]["messages"]) == ("month", "9")

    await page.get_by_label("Month").fill("2026-02")
    await expect(page.get_by_role("heading", name="Usage · February 2026")).to_be_visible()
    await expect(usage.locator('[data-figure="messages"] .report-tile-value')).to_have_text("1")
    await expect(page).to_have_url(f"{server.base_url}/admin/reports?month=2026-02")
    assert page_errors == []


async def test_the_reports_fit_a_phone(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        await march(http, world)
    page = watch(
        await sign_in(await new_context(PHONE), world["admin"], "/admin/reports"), page_errors
    )
    await page.get_by_label("Month").fill("2026-03")
    await expect(page.locator('[data-table="staff"] tbody tr')).to_have_count(2)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page_errors == []
