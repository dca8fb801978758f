"""Notification settings in the browser: a person's own page (from the account menu, with
the time zone preset from the device), the admin's defaults per audience, and the
thread's bell offering "Only replies to me" in team conversations."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewContext, watch
from tests.e2e.support import controlled, conversation_link, sign_in
from tests.e2e.test_accessibility import axe
from tests.support.server import RunningServer
from tests.support.world import Persona, World


async def preferences_of(server: RunningServer, who: Persona) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        got = await http.get("/api/v1/me/notifications", headers=who.auth)
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body


async def open_settings(page: Page, who: Persona) -> None:
    await page.get_by_role("button", name=f"Account menu for {who.name}").click()
    await page.get_by_role("menuitem", name="Notifications").click()
    await expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()


async def test_a_client_chooses_from_the_account_menu_with_the_zone_preset_from_the_device(
    server: RunningServer, world: World, browser: Browser, page_errors: list[str]
) -> None:
    context = await browser.new_context(
        base_url=server.base_url,
        viewport=DESKTOP,  # type: ignore[arg-type]
        locale="en-GB",
        timezone_id="America/New_York",
        service_workers="block",
        reduced_motion="reduce",
    )
    try:
        lily = watch(await sign_in(context, world["lily"]), page_errors)
        await open_settings(lily, world["lily"])
        assert lily.url.endswith("/settings/notifications")
        digest = lily.get_by_label("Summary e-mail")
        await expect(digest.locator("option:checked")).to_have_text("Organisation default (Weekly)")
        # Never chose a zone: this device's is offered, and saved with the rest.
        zone = lily.get_by_label("Time zone")
        await expect(zone).to_have_value("America/New_York")
        await expect(lily.get_by_text("Set from this device (America/New_York)")).to_be_visible()
        await expect(lily.get_by_label("From")).to_have_value("21:00")
        await digest.select_option("daily")
        await lily.get_by_label("E-mail", exact=True).select_option("false")
        await lily.get_by_label("From").fill("22:30")
        await lily.get_by_role("button", name="Save").click()
        await expect(lily.get_by_text("Notification settings saved")).to_be_attached()
        saved = await preferences_of(server, world["lily"])
        assert {k: saved[k] for k in ("push", "email", "digest", "quiet_hours")} == {
            "push": None,
            "email": False,
            "digest": "daily",
            "quiet_hours": None,
        }
        # The end time was left as the organisation's: it keeps following it.
        assert (saved["quiet_start"], saved["quiet_end"], saved["time_zone"]) == (
            "22:30",
            None,
            "America/New_York",
        )
        await lily.reload()
        await expect(lily.get_by_label("Summary e-mail")).to_have_value("daily")
        await expect(lily.get_by_label("From")).to_have_value("22:30")
        await expect(lily.get_by_text("Set from this device")).to_have_count(0)
        # Back to the organisation's default.
        await lily.get_by_label("Summary e-mail").select_option("")
        await lily.get_by_role("button", name="Save").click()
        await expect(lily.get_by_text("Notification settings saved")).to_be_attached()
        assert (await preferences_of(server, world["lily"]))["digest"] is None
        await lily.get_by_role("link", name="Back").click()
        await expect(lily.locator("nav.sidebar")).to_be_visible()
    finally:
        await context.close()
    assert page_errors == []


async def test_an_admin_sets_the_defaults_and_people_who_chose_nothing_follow_them(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    admin = watch(await sign_in(await new_context(), world["admin"], "/admin"), page_errors)
    await admin.get_by_role("link", name="Notifications").click()
    clients = admin.get_by_role("form", name="Clients and guardians")
    await expect(clients.get_by_text("defaults apply until you save.")).to_be_visible()
    await clients.get_by_label("Push notifications").uncheck()
    await clients.get_by_label("Summary e-mail").select_option("off")
    await clients.get_by_role("button", name="Save defaults for clients and guardians").click()
    await expect(admin.get_by_text("Defaults saved")).to_be_attached()
    await expect(clients.get_by_text("defaults apply until you save.")).to_have_count(0)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        defaults = (
            await http.get("/api/v1/admin/notifications/defaults", headers=world["admin"].auth)
        ).json()
    assert (defaults["clients"]["push"], defaults["clients"]["digest"]) == (False, "off")
    assert defaults["staff"]["custom"] is False
    # The admin's own settings are a link away.
    await admin.get_by_role("link", name="Your own notification settings").click()
    await expect(admin.get_by_role("heading", name="Notifications", level=1)).to_be_visible()

    tom = watch(await sign_in(await new_context(), world["tom"]), page_errors)
    await open_settings(tom, world["tom"])
    await expect(tom.get_by_label("Push notifications").locator("option:checked")).to_have_text(
        "Organisation default (Off)"
    )
    await expect(tom.get_by_label("Summary e-mail").locator("option:checked")).to_have_text(
        "Organisation default (Off)"
    )
    tom_now = await preferences_of(server, world["tom"])
    assert (tom_now["effective"]["push"], tom_now["effective"]["digest"]) == (False, "off")
    # Staff are not clients: Sam's defaults are careline's.
    sam_now = await preferences_of(server, world["sam"])
    assert sam_now["effective"]["push"] is True
    assert page_errors == []


async def test_the_bell_of_a_team_conversation_offers_only_replies_to_me(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        team = await http.post(
            "/api/v1/conversations",
            json={"kind": "team", "member_ids": [str(world["jo"].account_id)], "title": "Ward"},
            headers=world["sam"].auth,
        )
        assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    jo = watch(await sign_in(await new_context(), world["jo"]), page_errors)
    await conversation_link(jo, "Ward").click()
    bell = jo.get_by_role("button", name="Notifications: all messages")
    await bell.click()
    menu = jo.get_by_role("menu", name="Notifications for this conversation")
    await expect(menu.get_by_role("menuitemradio", name="All messages")).to_have_attribute(
        "aria-checked", "true"
    )
    await menu.get_by_role("menuitemradio", name="Only replies to me").click()
    bell = jo.get_by_role("button", name="Notifications: only replies to me")
    await expect(bell).to_be_visible()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        got = await http.get(f"/api/v1/conversations/{team_id}", headers=world["jo"].auth)
        assert (got.json()["notify"], got.json()["muted"]) == ("replies", False)
    await bell.click()
    await expect(menu.get_by_role("menuitemradio", name="Only replies to me")).to_have_attribute(
        "aria-checked", "true"
    )
    await menu.get_by_role("menuitemradio", name="Mute").click()
    await expect(jo.get_by_role("button", name="Notifications: muted")).to_be_visible()
    await expect(conversation_link(jo, "Ward").locator(".conv-muted")).to_be_visible()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        got = await http.get(f"/api/v1/conversations/{team_id}", headers=world["jo"].auth)
        assert (got.json()["notify"], got.json()["muted"]) == ("replies", True)
    assert page_errors == []


async def test_the_device_switch_turns_push_on_through_push_js_and_says_why_it_cannot(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    """Chromium does not subscribe to push in a private context (every Playwright context
    is one, and its vendor's push service is on the internet), so turning push on fails:
    the page says why, the switch stays off and careline keeps no subscription. Without
    the permission it says that instead."""
    for who, granted, said in (
        ("lily", True, "This browser could not sign up for notifications"),
        ("tom", False, "Notifications are blocked for careline"),
    ):
        context = await new_context(service_workers="allow")
        if granted:
            await context.grant_permissions(["notifications"], origin=server.base_url)
        page = watch(await sign_in(context, world[who]), page_errors)
        await controlled(page)
        await open_settings(page, world[who])
        switch = page.get_by_label("Show notifications on this device")
        await expect(switch).to_be_enabled()
        await expect(switch).not_to_be_checked()
        await switch.click()
        await expect(page.get_by_text(said)).to_be_attached()
        await expect(switch).to_be_enabled()
        await expect(switch).not_to_be_checked()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            listed = await http.get("/api/v1/push/subscriptions", headers=world[who].auth)
            assert listed.json() == [], listed.text
    # Chromium's own console line for a private context: why subscribing fails here.
    assert [e for e in page_errors if "Push API in incognito" not in e] == []


async def test_the_notification_pages_have_no_serious_accessibility_violations(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = watch(await sign_in(await new_context(viewport), world["grace"]), page_errors)
        await page.goto("/settings/notifications")
        await expect(page.get_by_label("Summary e-mail")).to_be_visible()
        found[f"settings ({name})"] = await axe(page)
    admin = watch(await sign_in(await new_context(), world["admin"], "/admin"), page_errors)
    await admin.goto("/admin/notifications")
    await expect(admin.get_by_role("form", name="Staff and admins")).to_be_visible()
    found["admin defaults"] = await axe(admin)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        team = await http.post(
            "/api/v1/conversations",
            json={"kind": "team", "member_ids": [str(world["jo"].account_id)], "title": "Ward"},
            headers=world["sam"].auth,
        )
        assert team.status_code == 201, team.text
    jo = watch(await sign_in(await new_context(), world["jo"]), page_errors)
    await conversation_link(jo, "Ward").click()
    await jo.get_by_role("button", name="Notifications: all messages").click()
    await expect(jo.get_by_role("menu", name="Notifications for this conversation")).to_be_visible()
    found["team bell menu"] = await axe(jo)
    assert {k: v for k, v in found.items() if v} == {}
    assert page_errors == []
