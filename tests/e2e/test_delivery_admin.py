"""The admin's overview shows notification delivery: what was refused or failed, with
the person and the reason code, and everything when asked."""

from __future__ import annotations

from playwright.async_api import expect

from careline.db.tx import Actor, transaction
from careline.notifications import attempts
from tests.e2e.conftest import DESKTOP, NewContext, watch
from tests.e2e.support import sign_in
from tests.support.server import RunningServer
from tests.support.world import World


async def test_the_admin_sees_failed_notifications_and_then_all(
    server: RunningServer, world: World, new_context: NewContext, page_errors: list[str]
) -> None:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        for outcome, reason, status in (("sent", None, 201), ("removed", "push_410", 410)):
            await attempts.record(
                tx,
                tenant_id=world.tenant_id,
                account_id=world["lily"].account_id,
                notification_id=None,
                channel="push",
                kind="message",
                outcome=outcome,  # type: ignore[arg-type]
                reason=reason,
                status=status,
            )
    page = watch(await sign_in(await new_context(DESKTOP), world["admin"], "/admin"), page_errors)
    section = page.get_by_role("region", name="Notification delivery")
    rows = section.locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Lily Client")
    await expect(rows.first).to_contain_text("Browser removed")
    await expect(rows.first).to_contain_text("push_410 · 410")
    await section.get_by_label("Only problems").uncheck()
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("Sent")  # newest first: the 410 came later
    assert page_errors == []
