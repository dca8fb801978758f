"""Administration in the browser: people and roles, care teams with a primary clinician,
and signing someone out everywhere (from their devices)."""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import Route, expect

from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import sign_in
from tests.support.server import RunningServer
from tests.support.world import World


async def test_admin_adds_a_person_and_changes_a_role(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    admin = watch(await sign_in(await new_context(), world["admin"], "/admin/people"), page_errors)
    await expect(admin.locator("tbody tr")).to_have_count(len(world.people))

    await admin.get_by_role("button", name="Add person").click()
    dialog = admin.get_by_role("dialog", name="Add a person")
    await dialog.get_by_label("Full name").fill("Priya Shah")
    await dialog.get_by_label("E-mail address").fill(f"priya@{world.slug}.test")
    await dialog.get_by_label("Role").select_option("staff")
    await dialog.get_by_role("button", name="Add person").click()
    invited = admin.get_by_role("dialog", name="Priya Shah was invited")
    link = await invited.get_by_label("Invitation link").text_content()
    assert link
    assert "/invite#" in link, link
    await invited.get_by_role("button", name="Close").click()
    # Pending, not a member: listed apart, with only what the admin typed.
    pending = admin.get_by_role("region", name="Invited, not yet joined")
    await expect(pending.locator("tbody tr")).to_have_count(1)
    await expect(pending.locator("tbody tr")).to_contain_text("Priya Shah")
    await expect(pending.locator("tbody tr")).to_contain_text("pending")
    members = admin.locator(
        "table", has=admin.locator("caption", has_text="People in the organisation")
    )
    await expect(members.locator("tbody tr")).to_have_count(len(world.people))
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        accepted = await http.post(
            "/api/v1/invitations/accept",
            json={
                "token": link.partition("#")[2],
                "password": "priya's own passphrase",
                "display_name": "Priya Shah",
            },
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == "staff"

    await admin.get_by_label("Role of Jo Clinician").select_option("admin")
    await (
        admin.get_by_role("dialog", name="Make Jo Clinician an admin?")
        .get_by_role("button", name="Make an admin")
        .click()
    )
    await expect(
        admin.get_by_role("status").filter(has_text="Jo Clinician is now admin")
    ).to_be_visible()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        jo = await http.get(
            f"/api/v1/admin/members/{world['jo'].account_id}", headers=world["admin"].auth
        )
        assert jo.json()["role"] == "admin", jo.text
    # An admin cannot demote themselves by accident here.
    await expect(admin.get_by_label("Role of Alex Admin")).to_be_disabled()
    assert page_errors == []


async def test_admin_sets_the_primary_clinician_of_a_care_team(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    admin = watch(await sign_in(await new_context(), world["admin"], "/admin/care"), page_errors)
    await admin.get_by_label("Client").select_option(label="Lily Client")
    team = admin.get_by_role("group", name="Care team of Lily Client")
    await expect(team.get_by_role("listitem")).to_have_count(1)
    await expect(team.get_by_role("radio", name="Primary")).to_be_checked()

    await admin.get_by_label("Add to the team").select_option(label="Jo Clinician")
    await admin.get_by_label("Make primary").check()
    await admin.get_by_role("button", name="Add", exact=True).click()
    await expect(team.get_by_role("listitem")).to_have_count(2)
    jo_row = team.get_by_role("listitem").filter(has_text="Jo Clinician")
    sam_row = team.get_by_role("listitem").filter(has_text="Sam Clinician")
    await expect(jo_row.get_by_role("radio", name="Primary")).to_be_checked()
    await expect(sam_row.get_by_role("radio", name="Primary")).not_to_be_checked()

    # click, not check(): the list re-renders once saved, so the radio clicked is replaced.
    await sam_row.get_by_role("radio", name="Primary").click()
    await expect(
        admin.get_by_role("status").filter(has_text="Sam Clinician is now")
    ).to_be_visible()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        found = await http.get(
            f"/api/v1/care-relationships?client_id={world['lily'].account_id}",
            headers=world["admin"].auth,
        )
    primary = {r["staff_id"]: r["is_primary"] for r in found.json()["items"]}
    assert primary == {str(world["sam"].account_id): True, str(world["jo"].account_id): False}
    await expect(sam_row.get_by_role("radio", name="Primary")).to_be_checked()

    await team.get_by_role("button", name="Remove Jo Clinician from the care team").click()
    await expect(team.get_by_role("listitem")).to_have_count(1)
    await expect(admin.get_by_role("region", name="Guardians")).to_contain_text("Grace Guardian")
    assert page_errors == []


async def test_a_late_answer_for_an_earlier_client_never_replaces_the_team_shown(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    """The admin picks another client while the first one's team is still on its way:
    the late answer must not replace the form in use, or Add acts on the wrong client."""
    admin = watch(await sign_in(await new_context(), world["admin"], "/admin"), page_errors)
    lily = str(world["lily"].account_id)
    held: list[Route] = []

    async def hold_lily(route: Route) -> None:
        if f"client_id={lily}" in route.request.url and not held:
            held.append(route)  # answered only once Tom's team is drawn
            return
        await route.continue_()

    await admin.route("**/api/v1/care-relationships?*", hold_lily)
    await admin.goto("/admin/care")
    for _ in range(200):  # the page asks for the first client's team as it opens
        if held:
            break
        await asyncio.sleep(0.05)
    assert held, "the care page never asked for Lily's team"
    await admin.get_by_label("Client").select_option(label="Tom Client")
    tom_team = admin.get_by_role("group", name="Care team of Tom Client")
    await expect(tom_team.get_by_role("listitem")).to_have_count(1)

    async with admin.expect_response(lambda r: f"client_id={lily}" in r.url) as late:
        await held[0].continue_()
    await (await late.value).finished()
    await admin.evaluate("() => new Promise((done) => setTimeout(done, 0))")
    await expect(admin.get_by_role("group", name="Care team of Lily Client")).to_have_count(0)

    await admin.get_by_label("Add to the team").select_option(label="Sam Clinician")
    await admin.get_by_role("button", name="Add", exact=True).click()
    await expect(tom_team.get_by_role("listitem")).to_have_count(2)
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        teams = {
            who: {
                r["staff_id"]
                for r in (
                    await http.get(
                        f"/api/v1/care-relationships?client_id={world[who].account_id}",
                        headers=world["admin"].auth,
                    )
                ).json()["items"]
            }
            for who in ("lily", "tom")
        }
    sam, jo = str(world["sam"].account_id), str(world["jo"].account_id)
    assert teams == {"lily": {sam}, "tom": {jo, sam}}
    assert page_errors == []


async def test_signing_someone_out_everywhere_ends_their_open_session(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    tom = watch(await sign_in(await new_context(), world["tom"]), page_errors)
    admin = watch(await sign_in(await new_context(), world["admin"], "/admin/people"), page_errors)
    row = admin.locator("tbody tr").filter(has_text="Tom Client")
    await row.get_by_role("button", name="Devices").click()
    devices = admin.get_by_role("dialog", name="Tom Client: signed-in devices")
    await devices.get_by_role("button", name="Sign out of every device").click()
    await (
        admin.get_by_role("dialog", name="Sign Tom Client out of every device?")
        .get_by_role("button", name="Sign out of every device")
        .click()
    )
    await expect(
        admin.get_by_role("status").filter(has_text="Tom Client was signed out")
    ).to_be_visible()
    await expect(tom.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(tom.locator(".notice")).to_contain_text("Your session ended")
    assert page_errors == []
