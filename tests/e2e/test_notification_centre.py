"""The bell in every portal: the unread count, the dropdown (history grouped by
conversation, newest first, paged), mark one / all read, a click opening the
conversation at its first unread message, live and in step on two devices of the same
person; and links carrying ?org=<organisation> (issue 11, item 1)."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Locator, Page, expect

from careline.db.tx import Role
from tests.e2e.conftest import PHONE, SCREENSHOTS, NewContext, watch
from tests.e2e.support import message, open_care, sign_in
from tests.e2e.test_accessibility import axe
from tests.e2e.test_unread import api_send
from tests.support.server import RunningServer
from tests.support.world import PASSWORD, World, join_by_invitation


def bell(page: Page) -> Locator:
    return page.locator(".bell-btn")


def badge(page: Page) -> Locator:
    return page.locator(".bell-badge")


def item(page: Page, name: str) -> Locator:
    return page.locator(".bell-item", has=page.locator(".bell-name", has_text=name))


async def open_team(server: RunningServer, world: World, by: str, *members: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post(
            "/api/v1/conversations",
            json={
                "kind": "team",
                "title": "Case review",
                "member_ids": [str(world[m].account_id) for m in members],
            },
            headers=world[by].auth,
        )
        assert response.status_code == 201, response.text
        conversation_id: str = response.json()["id"]
        return conversation_id


async def test_the_bell_counts_lists_marks_and_opens_in_step_on_two_devices(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily, jo = world["sam"], world["lily"], world["jo"]
    care = await open_care(server, sam, lily, (sam, "See you Tuesday"))
    team = await open_team(server, world, "jo", "sam")
    await api_send(server, lily, care, "First question")
    await api_send(server, lily, care, "Second question")
    await api_send(server, jo, team, "Can we talk about the plan")
    laptop = watch(await sign_in(await new_context(), sam), page_errors)
    phone = watch(await sign_in(await new_context(PHONE), sam), page_errors)
    for device in (laptop, phone):
        await expect(badge(device)).to_have_text("2")
        await expect(bell(device)).to_have_accessible_name("Notifications, 2 unread")

    await bell(laptop).click()
    items = laptop.locator(".bell-item")
    await expect(items).to_have_count(2)
    # Newest first, grouped by conversation, with how many messages each has.
    await expect(items.nth(0).locator(".bell-name")).to_have_text("Case review")
    await expect(items.nth(1).locator(".bell-name")).to_have_text("Lily Client")
    await expect(item(laptop, "Lily Client").locator(".bell-what")).to_have_text("2 new messages")
    assert await axe(laptop) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await laptop.screenshot(path=SCREENSHOTS / "bell-desktop.png")
    # Live: another message moves its conversation up and counts one more.
    await api_send(server, lily, care, "Third question")
    await expect(items.nth(0).locator(".bell-name")).to_have_text("Lily Client")
    await expect(item(laptop, "Lily Client").locator(".bell-what")).to_have_text("3 new messages")
    await expect(badge(phone)).to_have_text("2")

    # Mark one read on the laptop: the phone's bell follows.
    await laptop.get_by_role("button", name="Mark read: Case review").click()
    await expect(item(laptop, "Case review").locator(".bell-what")).to_have_text("No new messages")
    for device in (laptop, phone):
        await expect(badge(device)).to_have_text("1")

    # A click opens the conversation at its first unread message.
    await item(laptop, "Lily Client").locator("a.bell-open").click()
    await expect(laptop).to_have_url(f"{server.base_url}/c/{care}")
    await expect(laptop.locator(".bell-panel")).to_be_hidden()
    first_unread = laptop.locator(".unread-divider + li.msg")
    await expect(first_unread).to_contain_text("First question")
    await expect(message(laptop, "See you Tuesday")).to_be_visible()
    for device in (laptop, phone):
        await expect(badge(device)).to_be_hidden()
        await expect(bell(device)).to_have_accessible_name("Notifications")

    # Mark all read on the phone clears the laptop too.
    await api_send(server, jo, team, "One more thing")
    await api_send(server, world["tom"], await open_care(server, sam, world["tom"]), "Hello")
    for device in (laptop, phone):
        await expect(badge(device)).to_have_text("2")
    await bell(phone).click()
    await expect(phone.locator(".bell-item.is-unread")).to_have_count(2)
    assert await axe(phone) == []
    await phone.screenshot(path=SCREENSHOTS / "bell-phone.png")
    await phone.get_by_role("button", name="Mark all read").click()
    for device in (laptop, phone):
        await expect(badge(device)).to_be_hidden()
    await expect(phone.locator(".bell-item.is-unread")).to_have_count(0)
    await phone.keyboard.press("Escape")
    await expect(phone.locator(".bell-panel")).to_be_hidden()
    await expect(bell(phone)).to_be_focused()
    assert page_errors == []


async def test_the_dropdown_pages_older_notifications(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    for n in range(22):  # the dropdown's page is 20
        await api_send(server, world["jo"], await open_team(server, world, "jo", "sam"), f"n{n}")
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    await expect(badge(sam)).to_have_text("22")
    await bell(sam).click()
    await expect(sam.locator(".bell-item")).to_have_count(20)
    await sam.get_by_role("button", name="Show older").click()
    await expect(sam.locator(".bell-item")).to_have_count(22)
    await expect(sam.get_by_role("button", name="Show older")).to_be_hidden()
    assert page_errors == []


async def test_clients_and_admins_have_the_bell_too(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    lily, admin = world["lily"], world["admin"]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post(
            "/api/v1/conversations", json={"kind": "support"}, headers=lily.auth
        )
        assert response.status_code == 201, response.text
        support = response.json()["id"]
    client = watch(await sign_in(await new_context(PHONE), lily), page_errors)
    office = watch(await sign_in(await new_context(), admin, "/admin"), page_errors)
    await expect(bell(office)).to_be_visible()
    await expect(badge(office)).to_be_hidden()
    await api_send(server, lily, support, "Can I move my appointment")
    await expect(badge(office)).to_have_text("1")
    care = await open_care(server, world["sam"], lily)
    await api_send(server, world["sam"], care, "Your next session is on Monday")
    await expect(badge(client)).to_have_text("1")
    # The admin opens the support conversation from the administration's bell.
    await bell(office).click()
    await expect(office.locator(".bell-item.is-unread")).to_have_count(1)
    assert await axe(office) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await office.screenshot(path=SCREENSHOTS / "bell-admin.png")
    await office.locator(".bell-item a.bell-open").click()
    await expect(office).to_have_url(f"{server.base_url}/c/{support}")
    await expect(message(office, "Can I move my appointment")).to_be_visible()
    await expect(badge(office)).to_be_hidden()
    assert page_errors == []


async def test_a_link_names_its_organisation(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    care = await open_care(server, world["sam"], world["lily"], (world["lily"], "Hello there"))
    sam = watch(await sign_in(await new_context(), world["sam"]), page_errors)
    # This organisation: the conversation opens, and the parameter leaves the address.
    await sam.goto(f"/c/{care}?org={world.tenant_id}")
    await expect(message(sam, "Hello there")).to_be_visible()
    await expect(sam).to_have_url(f"{server.base_url}/c/{care}")
    # Another: careline says so and offers to sign in there, coming back to the link.
    other = uuid.uuid4()
    await sam.goto(f"/c/{care}?org={other}")
    await expect(
        sam.get_by_role("heading", name="This link is for another organisation")
    ).to_be_visible()
    await sam.get_by_role("button", name="Sign in to that organisation").click()
    await expect(sam).to_have_url(f"{server.base_url}/signin?next=%2Fc%2F{care}%3Forg%3D{other}")
    assert page_errors == []


async def test_a_link_to_another_organisation_signs_in_there_and_opens_it(
    server: RunningServer,
    world: World,
    other_world: World,
    new_context: NewContext,
    page_errors: list[str],
) -> None:
    # Sam of A is also staff in B; Lily of B writes to them there.
    sam_in_b = await join_by_invitation(
        server.base_url,
        other_world["admin"],
        world["sam"],
        name="Sam in B",
        role=Role.STAFF,
        slug=other_world.slug,
    )
    care_b = await open_care(server, sam_in_b, other_world["lily"], (other_world["lily"], "In B"))
    context = await new_context()
    sam = watch(await context.new_page(), page_errors)
    await sam.goto("/")
    await sam.get_by_label("E-mail address").fill(world["sam"].email)
    await sam.get_by_label("Password", exact=True).fill(PASSWORD)
    await sam.get_by_role("button", name="Sign in").click()
    await sam.get_by_label(f"Org {world.slug}").check()
    await sam.get_by_role("button", name="Sign in").click()
    await expect(sam.locator("nav.sidebar .org")).to_have_text(f"Org {world.slug}")
    # The link of B's notification, opened while signed in to A.
    await sam.goto(f"/c/{care_b}?org={other_world.tenant_id}")
    await sam.get_by_role("button", name="Sign in to that organisation").click()
    await sam.get_by_label("E-mail address").fill(world["sam"].email)
    await sam.get_by_label("Password", exact=True).fill(PASSWORD)
    await sam.get_by_role("button", name="Sign in").click()
    # B is chosen for them, the one the link names.
    await expect(sam.get_by_label(f"Org {other_world.slug}")).to_be_checked()
    await sam.get_by_role("button", name="Sign in").click()
    await expect(message(sam, "In B")).to_be_visible()
    await expect(sam).to_have_url(f"{server.base_url}/c/{care_b}")
    await expect(sam.locator("nav.sidebar .org")).to_have_text(f"Org {other_world.slug}")
    assert page_errors == []
