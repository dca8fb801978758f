"""The organisation setting `device_storage`: turned off, the web client keeps nothing to
read offline and deletes what it had kept. Written against the shared contract
(`PATCH /api/v1/admin/organisation/settings`, `GET /api/v1/organisation/settings`), whose
endpoints come with the admin work."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.e2e.conftest import NewContext
from tests.e2e.support import conversation_link, message, open_care
from tests.e2e.test_offline_reading import holds, kept, kept_until, records, signed_in_with_worker
from tests.support.server import RunningServer
from tests.support.world import World


async def test_device_storage_off_keeps_nothing_and_deletes_what_was_kept(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    sam, lily = world["sam"], world["lily"]
    conversation_id = await open_care(server, sam, lily, (sam, "Kept while allowed"))
    context = await new_context(service_workers="allow")
    page = await signed_in_with_worker(context, lily, page_errors)
    await conversation_link(page, "Sam Clinician").click()
    await kept_until(page, holds("Kept while allowed"))

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        changed = await http.patch(
            "/api/v1/admin/organisation/settings",
            json={"device_storage": False},
            headers=world["admin"].auth,
        )
        assert changed.status_code == 204, changed.text
        read = await http.get("/api/v1/organisation/settings", headers=lily.auth)
        assert read.json()["device_storage"] is False, read.text

    # The client asks at every start (and every connection): what was kept goes.
    await page.reload()
    await expect(message(page, "Kept while allowed")).to_be_visible()
    await kept_until(page, lambda copy: records(copy) == 0)

    # Nothing new is kept either.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "while-off", "text": "Not kept on the device"},
            headers=sam.auth,
        )
        assert sent.status_code == 201, sent.text
    await expect(message(page, "Not kept on the device")).to_be_visible()
    await context.set_offline(True)
    await page.reload()
    await expect(page.get_by_role("heading", name="careline cannot be reached")).to_be_visible()
    assert records(await kept(page)) == 0
    assert page_errors == []
