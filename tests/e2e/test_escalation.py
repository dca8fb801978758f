"""Unread escalation in the browser: the staff inbox says since when a client's message
waits, live, and stops saying it once it is read; an admin turns escalation on and sets
the working week on the organisation's settings page."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

import httpx
from playwright.async_api import expect

from careline.notifications import escalation
from careline.notifications.workhours import Calendar, deadline
from tests.e2e.conftest import NewContext
from tests.e2e.support import conversation_link, open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World

ALWAYS = Calendar("UTC", dt.time(0), dt.time(23, 59), frozenset(range(1, 8)))


async def test_the_inbox_shows_a_waiting_conversation_until_it_is_read(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily, jo = world["sam"], world["lily"], world["jo"]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        on = await http.patch(
            "/api/v1/admin/organisation/settings",
            json={
                "escalation_hours": 1,
                "time_zone": "UTC",
                "work_start": "00:00",
                "work_end": "23:59",
                "work_days": [1, 2, 3, 4, 5, 6, 7],
            },
            headers=world["admin"].auth,
        )
        assert on.status_code == 204, on.text
        team = await http.put(
            "/api/v1/admin/care-relationships",
            json={"client_id": str(lily.account_id), "staff_id": str(jo.account_id)},
            headers=world["admin"].auth,
        )
        assert team.status_code == 200, team.text
    conversation_id = await open_care(server, sam, lily, (lily, "Is Thursday still on?"))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        got = await http.get(f"/api/v1/conversations/{conversation_id}/messages", headers=sam.auth)
        sent_at = dt.datetime.fromisoformat(got.json()["items"][-1]["created_at"])

    page = await sign_in(await new_context(), sam, "/archived")  # the list, nothing open
    await page.get_by_role("link", name="Inbox").click()
    row = conversation_link(page, "Lily Client")
    await expect(row).to_be_visible()
    await expect(row.locator(".conv-waiting")).to_have_count(0)

    await escalation.sweep(deadline(sent_at, 1, ALWAYS) + dt.timedelta(minutes=1))
    note = row.locator(".conv-waiting")
    await expect(note).to_be_visible()
    await expect(note).to_contain_text("Waiting since")
    await expect(row).to_contain_text("waiting for a reply since")

    await row.click()  # sam reads it
    await expect(page.get_by_text("Is Thursday still on?", exact=True)).to_be_visible()
    await expect(note).to_have_count(0)
    await page.reload()
    await expect(conversation_link(page, "Lily Client")).to_be_visible()
    await expect(conversation_link(page, "Lily Client").locator(".conv-waiting")).to_have_count(0)
    assert page_errors == []


async def test_an_admin_turns_escalation_on_and_sets_the_working_week(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    page = await sign_in(await new_context(), world["admin"], "/admin/settings")
    toggle = page.get_by_label("Tell more people when a message from a client waits unread")
    await expect(toggle).not_to_be_checked()
    await expect(page.get_by_label("Care team after (working hours)")).to_be_disabled()

    async def settings(
        saved: Callable[[dict[str, object]], bool] = lambda _: True,
    ) -> dict[str, object]:
        """The organisation's settings once `saved` holds (the page shows a value as
        soon as it is typed, a moment before its save has answered), or after 15 s."""
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            while True:
                got = await http.get("/api/v1/organisation/settings", headers=world["sam"].auth)
                body: dict[str, object] = got.json()
                if saved(body) or time.monotonic() > deadline:
                    return body
                await asyncio.sleep(0.05)  # a poll: it ends as soon as the save is seen

    await toggle.check()
    await expect(page.get_by_label("Care team after (working hours)")).to_have_value("4")
    await expect(page.get_by_label("Admins after (working hours, optional)")).to_have_value("8")
    got = await settings(lambda b: b["escalation_hours"] is not None)
    assert (got["escalation_hours"], got["escalation_admin_hours"]) == (4, 8)

    hours = page.get_by_label("Care team after (working hours)")
    await hours.fill("6")
    await hours.press("Tab")
    await expect(page.get_by_label("Care team after (working hours)")).to_have_value("6")
    await page.get_by_label("Saturday").check()
    await expect(page.get_by_label("Saturday")).to_be_checked()
    zone = page.get_by_label("Time zone")
    await zone.fill("Asia/Riyadh")
    await zone.press("Tab")
    await expect(page.get_by_label("Time zone")).to_have_value("Asia/Riyadh")
    got = await settings(lambda b: b["time_zone"] == "Asia/Riyadh")
    assert got["escalation_hours"] == 6
    assert got["work_days"] == [1, 2, 3, 4, 5, 6]
    assert got["time_zone"] == "Asia/Riyadh"

    # A value the server refuses is said, and the page shows what stands.
    admins = page.get_by_label("Admins after (working hours, optional)")
    await admins.fill("3")
    await admins.press("Tab")
    await expect(page.locator("#toasts .toast-error")).to_contain_text(
        "the admins are told after the care team"
    )
    await expect(page.get_by_label("Admins after (working hours, optional)")).to_have_value("8")
    assert (await settings())["escalation_admin_hours"] == 8

    await page.get_by_label("Tell more people when a message from a client waits unread").uncheck()
    await expect(page.get_by_label("Care team after (working hours)")).to_be_disabled()
    got = await settings(lambda b: b["escalation_hours"] is None)
    assert (got["escalation_hours"], got["escalation_admin_hours"]) == (None, None)
    assert page_errors == []
