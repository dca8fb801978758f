"""Admins land where their work is (issue 10, items 6 and 7): the admin home with what
needs attention, a role change that asks first, guardian links, a care team's "add" with
no default, a person's devices with sign out, and who may start a conversation with whom."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from careline.db.tx import Actor, Role, transaction
from careline.tenants import service as tenant_service
from tests.e2e.conftest import DESKTOP, PHONE, NewContext, watch
from tests.e2e.support import sign_in
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, Persona, World
from tests.support.world import sign_in as token_for

SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


async def sign_in_at_root(context: BrowserContext, persona: Persona) -> Page:
    """The sign-in form, reached from `/` as anyone opening careline would."""
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_label("E-mail address").fill(persona.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    return page


async def add_client(world: World, name: str) -> str:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        member, _ = await tenant_service.do_add_member(
            tx,
            tenant_id=world.tenant_id,
            email=f"{name.split(maxsplit=1)[0].lower()}@{world.slug}.test",
            display_name=name,
            role=Role.CLIENT,
            password=PASSWORD,
        )
    return str(member.account_id)


@pytest.mark.parametrize("size", SIZES)
async def test_an_admin_with_an_empty_inbox_lands_on_what_needs_attention(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    size: dict[str, int],
) -> None:
    nina = await add_client(world, "Nina Client")  # no care team at all
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        invited = await http.post(
            "/api/v1/admin/members",
            json={"email": f"priya@{world.slug}.test", "display_name": "Priya", "role": "staff"},
            headers=world["admin"].auth,
        )
        assert invited.status_code == 201, invited.text

    admin = watch(await sign_in_at_root(await new_context(size), world["admin"]), page_errors)
    await expect(admin).to_have_url(f"{server.base_url}/admin")
    await expect(admin.get_by_role("link", name="Overview")).to_have_attribute(
        "aria-current", "page"
    )
    attention = admin.get_by_role("region", name="Needs attention")
    await expect(attention.get_by_role("listitem")).to_contain_text(
        [
            "1 invitation waiting for an answer",
            "1 client without a care team",
            "not seen in careline yet",
        ]
    )
    # Tom's team (jo) has no primary: counted apart from Nina, who has no team.
    await expect(attention).to_contain_text("1 client with a care team but no primary clinician")
    await attention.get_by_role("link", name="1 client without a care team").click()
    await expect(admin).to_have_url(f"{server.base_url}/admin/care?client={nina}")
    await expect(admin.get_by_role("group", name="Care team of Nina Client")).to_be_visible()

    await admin.get_by_role("link", name="Overview").click()
    await attention.get_by_role("link", name="not seen in careline yet").click()
    await expect(admin.get_by_role("button", name="Not seen yet · Show everyone")).to_be_visible()
    members = admin.locator(
        "table", has=admin.locator("caption", has_text="People in the organisation")
    )
    await expect(members.locator("tbody tr").filter(has_text="Nina Client")).to_have_count(1)

    # From the conversations, Administration sits beside Inbox and Archived.
    await admin.get_by_role("link", name="Messages").click()
    await expect(admin.locator("nav.sidebar")).to_be_visible()
    await admin.locator("nav.sidebar").get_by_role("link", name="Administration").click()
    await expect(admin.get_by_role("region", name="Needs attention")).to_be_visible()
    assert page_errors == []


async def test_an_admin_with_conversations_waiting_lands_on_the_inbox(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        opened = await http.post(
            "/api/v1/conversations", json={"kind": "support"}, headers=world["lily"].auth
        )
        assert opened.status_code == 201, opened.text
    admin = watch(await sign_in_at_root(await new_context(), world["admin"]), page_errors)
    await expect(admin.locator("nav.sidebar")).to_be_visible()
    await expect(admin).to_have_url(f"{server.base_url}/")
    assert page_errors == []


@pytest.mark.parametrize("size", SIZES)
async def test_a_role_change_says_what_it_allows_and_cancel_changes_nothing(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    size: dict[str, int],
) -> None:
    admin = watch(
        await sign_in(await new_context(size), world["admin"], "/admin/people"), page_errors
    )
    role = admin.get_by_label("Role of Sam Clinician")
    await role.select_option("admin")
    dialog = admin.get_by_role("dialog", name="Make Sam Clinician an admin?")
    await expect(dialog).to_contain_text("Admins can add and remove people, change roles")
    await expect(dialog).to_contain_text("see quarantined files")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    await expect(role).to_have_value("staff")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        url = f"/api/v1/admin/members/{world['sam'].account_id}"
        assert (await http.get(url, headers=world["admin"].auth)).json()["role"] == "staff"

        await role.select_option("admin")
        await dialog.get_by_role("button", name="Make an admin").click()
        await expect(
            admin.get_by_role("status").filter(has_text="Sam Clinician is now admin")
        ).to_be_visible()
        await expect(role).to_have_value("admin")
        assert (await http.get(url, headers=world["admin"].auth)).json()["role"] == "admin"
    assert page_errors == []


async def _links(server: RunningServer, world: World, client: str) -> set[str]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        found = await http.get(
            f"/api/v1/guardian-links?client_id={world[client].account_id}",
            headers=world["admin"].auth,
        )
    return {g["guardian_id"] for g in found.json()["items"]}


@pytest.mark.parametrize("size", SIZES)
async def test_an_admin_links_and_unlinks_a_guardian(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    size: dict[str, int],
) -> None:
    admin = watch(
        await sign_in(await new_context(size), world["admin"], "/admin/care"), page_errors
    )
    await admin.get_by_label("Client").select_option(label="Tom Client")
    guardians = admin.get_by_role("region", name="Guardians")
    await expect(guardians).to_contain_text("No guardian speaks for this client.")
    link = guardians.get_by_role("button", name="Link guardian")
    await expect(guardians.get_by_label("Add a guardian")).to_have_value("")
    await expect(link).to_be_disabled()
    await guardians.get_by_label("Add a guardian").select_option(label="Grace Guardian")
    await link.click()
    await expect(guardians.get_by_role("listitem")).to_have_count(1)
    await expect(guardians.get_by_role("listitem")).to_contain_text("Grace Guardian")
    assert await _links(server, world, "tom") == {str(world["grace"].account_id)}
    # Grace, who also speaks for Lily, can now act for Tom.
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        me = (await http.get("/api/v1/me", headers=world["grace"].auth)).json()
    assert {m["display_name"] for m in me["acting_for"]} == {"Lily Client", "Tom Client"}

    await guardians.get_by_role("button", name="Remove Grace Guardian as guardian").click()
    confirm = admin.get_by_role("dialog", name="Remove Grace Guardian as guardian?")
    await expect(confirm).to_contain_text("conversations at once")
    await confirm.get_by_role("button", name="Remove guardian").click()
    await expect(guardians).to_contain_text("No guardian speaks for this client.")
    assert await _links(server, world, "tom") == set()
    assert await _links(server, world, "lily") == {str(world["grace"].account_id)}
    assert page_errors == []


async def test_add_to_the_team_starts_with_no_one_chosen(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    admin = watch(await sign_in(await new_context(), world["admin"], "/admin/care"), page_errors)
    await admin.get_by_label("Client").select_option(label="Tom Client")
    await expect(admin.get_by_role("group", name="Care team of Tom Client")).to_be_visible()
    candidate = admin.get_by_label("Add to the team")
    add = admin.get_by_role("button", name="Add", exact=True)
    await expect(candidate).to_have_value("")
    await expect(candidate.locator("option:checked")).to_have_text("Choose a person")
    await expect(add).to_be_disabled()
    await candidate.select_option(label="Sam Clinician")
    await expect(add).to_be_enabled()
    assert page_errors == []


@pytest.mark.parametrize("size", SIZES)
async def test_an_admin_signs_out_one_of_a_persons_devices(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    size: dict[str, int],
) -> None:
    sam_browser = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    phone_token = await token_for(server.base_url, world["sam"].email)
    admin = watch(
        await sign_in(await new_context(size), world["admin"], "/admin/people"), page_errors
    )
    await (
        admin.locator("tbody tr")
        .filter(has_text="Sam Clinician")
        .get_by_role("button", name="Devices")
        .click()
    )
    devices = admin.get_by_role("dialog", name="Sam Clinician: signed-in devices")
    # The world's token, the phone's token, and the browser.
    rows = devices.get_by_role("listitem")
    await expect(rows).to_have_count(3)
    await expect(rows.filter(has_text="Chrome on Linux")).to_have_count(1)
    await expect(rows.filter(has_text="python-httpx")).to_have_count(2)
    await expect(rows.first).to_contain_text("Signed in today at")

    # The browser: its socket closes and it is sent to sign in.
    await rows.filter(has_text="Chrome on Linux").get_by_role("button", name="Sign out").click()
    await expect(rows).to_have_count(2)
    await expect(sam_browser.get_by_role("heading", name="Sign in")).to_be_visible()
    # One of the tokens: its next request is 401; the other still works.
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        listed = await http.get(
            f"/api/v1/admin/members/{world['sam'].account_id}/sessions",
            headers=world["admin"].auth,
        )
        own = await http.get(
            "/api/v1/auth/sessions", headers={"authorization": f"Bearer {phone_token}"}
        )
        phone_id = next(s["id"] for s in own.json() if s["current"])
        assert phone_id in {s["id"] for s in listed.json()}
        await (
            devices.locator(f'li[data-id="{phone_id}"]')
            .get_by_role("button", name="Sign out")
            .click()
        )
        await expect(rows).to_have_count(1)
        gone = await http.get("/api/v1/me", headers={"authorization": f"Bearer {phone_token}"})
        assert gone.status_code == 401
        assert (await http.get("/api/v1/me", headers=world["sam"].auth)).status_code == 200
    # Every device at once, from the same dialog.
    await devices.get_by_role("button", name="Sign out of every device").click()
    await (
        admin.get_by_role("dialog", name="Sign Sam Clinician out of every device?")
        .get_by_role("button", name="Sign out of every device")
        .click()
    )
    await expect(devices).to_contain_text("Not signed in on any device.")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get("/api/v1/me", headers=world["sam"].auth)).status_code == 401
    assert page_errors == []


async def test_a_person_signs_out_one_of_their_own_devices(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    lily = watch(await sign_in(await new_context(PHONE), world["lily"]), page_errors)
    await lily.get_by_role("button", name="Account menu for Lily Client").click()
    await lily.get_by_role("menuitem", name="Your devices").click()
    devices = lily.get_by_role("dialog", name="Your signed-in devices")
    rows = devices.get_by_role("listitem")
    await expect(rows).to_have_count(2)
    this = rows.filter(has_text="This device")
    await expect(this).to_contain_text("Chrome on Linux")
    await expect(this.get_by_role("button")).to_have_count(0)  # sign out does that
    await rows.filter(has_text="python-httpx").get_by_role("button", name="Sign out").click()
    await expect(rows).to_have_count(1)
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get("/api/v1/me", headers=world["lily"].auth)).status_code == 401
    assert page_errors == []


@pytest.mark.parametrize("size", SIZES)
async def test_care_team_only_keeps_a_clinician_to_the_clients_of_their_team(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    size: dict[str, int],
) -> None:
    admin = watch(
        await sign_in(await new_context(size), world["admin"], "/admin/settings"), page_errors
    )
    anyone = admin.get_by_role("radio", name="Any client of the organisation")
    team_only = admin.get_by_role("radio", name="Only clients of their care team")
    storage = admin.get_by_role(
        "checkbox", name="Keep recent conversations on devices for offline reading"
    )
    await expect(anyone).to_be_checked()
    await expect(storage).to_be_checked()
    await team_only.check()
    await expect(admin.get_by_role("status").filter(has_text="Settings saved")).to_be_visible()
    await expect(team_only).to_be_checked()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        got = await http.get("/api/v1/organisation/settings", headers=world["sam"].auth)
        assert {k: got.json()[k] for k in ("conversation_start", "device_storage")} == {
            "conversation_start": "care_team",
            "device_storage": True,
        }

    # sam looks after lily only: the directory lists her, not tom, and says why.
    sam = watch(await sign_in(await new_context(size), world["sam"]), page_errors)
    await sam.locator("nav.sidebar").get_by_role("button", name="New message").click()
    dialog = sam.get_by_role("dialog", name="New message")
    clients = dialog.get_by_role("list", name="Clients")
    await expect(clients.get_by_role("button")).to_have_count(1)
    await expect(clients.get_by_role("button", name="Lily Client")).to_be_visible()
    await expect(dialog).to_contain_text("only with clients of your care team")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        refused = await http.post(
            "/api/v1/conversations",
            json={"kind": "care", "client_id": str(world["tom"].account_id)},
            headers=world["sam"].auth,
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "care_team_only"
    await clients.get_by_role("button", name="Lily Client").click()
    await expect(sam.get_by_role("heading", name="Lily Client")).to_be_visible()

    # Back to any client; the storage switch is saved on its own.
    for control in (anyone, storage):
        async with admin.expect_response(
            lambda r: r.url.endswith("/api/v1/organisation/settings") and r.request.method == "GET"
        ):
            await control.click()  # saved, then read back and drawn again
    await expect(anyone).to_be_checked()
    await expect(storage).not_to_be_checked()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        got = await http.get("/api/v1/organisation/settings", headers=world["sam"].auth)
        assert {k: got.json()[k] for k in ("conversation_start", "device_storage")} == {
            "conversation_start": "any_client",
            "device_storage": False,
        }
    assert page_errors == []
