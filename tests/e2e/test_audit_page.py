"""The audit page in the browser: the events of the organisation with who acted and
why, "who has opened this client's record" from a client picker, and an export made
with a progress bar and downloaded; at 360 px too."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from playwright.async_api import expect

from tests.audit.page_support import record
from tests.e2e.conftest import PHONE, NewContext, watch
from tests.e2e.support import open_care, sign_in
from tests.support.server import RunningServer
from tests.support.world import World

REASON = "Concern reported by the family"


async def test_an_admin_sees_who_opened_a_clients_record_and_exports_it(
    server: RunningServer,
    world: World,
    new_context: NewContext,
    page_errors: list[str],
    tmp_path: Path,
) -> None:
    lily_care = uuid.UUID(await open_care(server, world["sam"], world["lily"]))
    tom_care = uuid.UUID(await open_care(server, world["jo"], world["tom"]))
    await record(world["sam"], "conversation.history_read", conversation_id=lily_care)
    await record(world["jo"], "conversation.history_read", conversation_id=tom_care)
    await record(world["admin"], "conversation.frozen", conversation_id=lily_care, reason=REASON)

    page = watch(await sign_in(await new_context(), world["admin"], "/admin/audit"), page_errors)
    rows = page.locator("table.audit-table tbody tr")
    await expect(rows.filter(has_text="Sam Clinician")).to_have_count(1)
    await expect(rows.filter(has_text="Jo Clinician")).to_have_count(1)
    frozen = rows.filter(has_text="Paused a conversation")
    await expect(frozen).to_contain_text(REASON)
    await expect(frozen).to_contain_text("Alex Admin")

    await page.get_by_label("Who has opened this client's record").select_option(
        label="Lily Client"
    )
    await expect(rows.filter(has_text="Jo Clinician")).to_have_count(0)
    await expect(rows.filter(has_text="Paused a conversation")).to_have_count(0)
    sam = rows.filter(has_text="Sam Clinician")
    await expect(sam).to_have_count(1)
    await expect(sam).to_contain_text("Read a conversation")

    await page.get_by_role("button", name="Export CSV").click()
    # Sam's read, and the admin's own look at her record's audit just now.
    await expect(page.locator(".audit-export-status")).to_have_text("Export ready: 2 events.")
    bar = page.locator("progress.audit-progress")
    assert await bar.get_attribute("value") == await bar.get_attribute("max")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Download").click()
    download = await waiting.value
    saved = tmp_path / "audit.csv"
    await download.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["action"], r["actor_name"]) for r in exported] == [
        ("audit.read", "Alex Admin"),
        ("conversation.history_read", "Sam Clinician"),
    ]
    # The download is itself on the page once it is shown again.
    await page.get_by_label("Who has opened this client's record").select_option(label="Any client")
    await page.get_by_label("Kind").select_option(label="Opened a record")
    await expect(rows.filter(has_text="Downloaded an export")).to_have_count(1)

    phone = watch(
        await sign_in(await new_context(PHONE), world["admin"], "/admin/audit"), page_errors
    )
    await expect(phone.locator("table.audit-table tbody tr").first).to_be_visible()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page_errors == []
