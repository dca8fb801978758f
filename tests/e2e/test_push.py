"""Web push in the browser: the real service worker gets careline's real push (taken
from the local push service, decrypted) through the DevTools protocol
(`ServiceWorker.deliverPushMessage`), shows it with the organisation's name and a count
only, replaces it under its tag rather than stacking, and opening it takes careline to
the conversation."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from playwright.async_api import BrowserContext, CDPSession, Page, Worker, expect

from careline.push.channel import PushChannel
from tests.e2e.conftest import NewContext, watch
from tests.e2e.support import controlled, message, sign_in
from tests.push.support import delivery_of, open_record, send, subscribe
from tests.realtime.test_live import open_care
from tests.support.pushservice import PushService
from tests.support.server import RunningServer
from tests.support.world import World

SHOWN = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
}"""


async def pushed_payload(
    http: httpx.AsyncClient, push_service: PushService, world: World, conversation_id: str
) -> dict[str, Any]:
    """What careline's push channel sent lily's browser for her open record, decrypted."""
    browser = await subscribe(http, push_service, world["lily"])
    record = await open_record(world["lily"], conversation_id)
    assert (await PushChannel().send(delivery_of(record))).outcome == "sent"
    (payload,) = push_service.delivered(browser)
    return payload


async def registration_id(cdp: CDPSession, scope: str) -> str:
    found: dict[str, str] = {}
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.update(
            {r["scopeURL"]: r["registrationId"] for r in event["registrations"]}
        ),
    )
    await cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 15
    while scope not in found:
        assert time.monotonic() < deadline, f"no service worker registration for {scope}: {found}"
        await asyncio.sleep(0.05)  # a poll: it ends when the event has come
    return found[scope]


async def shown(page: Page, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while len(notes := await page.evaluate(SHOWN)) != count:
        assert time.monotonic() < deadline, f"expected {count} notifications, saw {notes}"
        await asyncio.sleep(0.05)  # a poll: it ends as soon as the worker has shown it
    return notes


async def the_worker(context: BrowserContext) -> Worker:
    deadline = time.monotonic() + 15
    while not context.service_workers:
        assert time.monotonic() < deadline, "the service worker never started"
        await asyncio.sleep(0.05)
    return context.service_workers[0]


async def test_a_push_is_shown_replaced_under_its_tag_and_opens_the_conversation(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    new_context: NewContext,
    page_errors: list[str],
) -> None:
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "marker-2c9e the scan results")
    payload = await pushed_payload(http, push_service, world, conversation_id)

    context = await new_context(service_workers="allow")
    await context.grant_permissions(["notifications"], origin=server.base_url)
    page = watch(await sign_in(context, world["lily"]), page_errors)
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await controlled(page)
    cdp = await context.new_cdp_session(page)
    registration = await registration_id(cdp, f"{server.base_url}/")

    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server.base_url, "registrationId": registration, "data": json.dumps(payload)},
    )
    (note,) = await shown(page, 1)
    assert note["title"] == f"Org {world.slug}"
    assert note["body"] == "1 new message"
    assert note["tag"] == payload["tag"]
    assert note["data"]["url"] == f"{server.base_url}/c/{conversation_id}?org={world.tenant_id}"
    assert "marker-2c9e" not in json.dumps(note)
    assert "Sam" not in json.dumps(note)

    # Another message in the same window: the same tag, so it replaces, never stacks.
    await send(http, world["sam"], conversation_id, "marker-2c9e again")
    again = {**payload, "count": 2, "body": "2 new messages"}
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server.base_url, "registrationId": registration, "data": json.dumps(again)},
    )
    deadline = time.monotonic() + 15
    while (notes := await shown(page, 1))[0]["body"] != "2 new messages":
        assert time.monotonic() < deadline, notes
        await asyncio.sleep(0.05)

    # Opening it (the worker's notificationclick handler, on the shown notification:
    # no protocol clicks an operating system's notification) takes this window there.
    worker = await the_worker(context)
    await worker.evaluate(
        "self.registration.getNotifications()"
        ".then((shown) => openFromNotification(shown[0])).then(() => true)"
    )
    await expect(page).to_have_url(f"{server.base_url}/c/{conversation_id}?org={world.tenant_id}")
    await expect(message(page, "marker-2c9e again")).to_be_visible()
    assert page_errors == []


async def test_a_push_with_a_link_elsewhere_opens_careline_itself(
    server: RunningServer, new_context: NewContext, world: World
) -> None:
    context = await new_context(service_workers="allow")
    await context.grant_permissions(["notifications"], origin=server.base_url)
    page = await sign_in(context, world["lily"])
    await controlled(page)
    cdp = await context.new_cdp_session(page)
    registration = await registration_id(cdp, f"{server.base_url}/")
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.base_url,
            "registrationId": registration,
            "data": json.dumps({"url": "https://evil.example/phish", "tag": "x"}),
        },
    )
    (note,) = await shown(page, 1)
    assert note["title"] == "careline"
    assert note["data"]["url"] == f"{server.base_url}/"


ENABLE = """async () => {
  const push = await import('/js/push.js');
  const out = { supported: push.pushSupported(), enabled: await push.pushEnabled() };
  try {
    out.enable = await push.enablePush();
  } catch (err) {
    out.enable = err.code;
  }
  out.after = await push.pushEnabled();
  out.disable = await push.disablePush();
  return out;
}"""


async def test_turning_push_on_says_why_when_the_browser_cannot(
    server: RunningServer, new_context: NewContext, world: World, page_errors: list[str]
) -> None:
    """Chromium does not subscribe to push in a private context (and its vendor's push
    service is on the internet anyway), so subscribing fails: enablePush says so with a code the settings page
    shows, and careline keeps nothing. Without permission, it says that instead."""
    allowed = await new_context(service_workers="allow")
    await allowed.grant_permissions(["notifications"], origin=server.base_url)
    page = watch(await sign_in(allowed, world["lily"]), page_errors)
    await controlled(page)
    got = await page.evaluate(ENABLE)
    assert got == {
        "supported": True,
        "enabled": False,
        "enable": "failed",
        "after": False,
        "disable": False,
    }

    blocked = await new_context(service_workers="allow")
    page = watch(await sign_in(blocked, world["tom"]), page_errors)
    await controlled(page)
    got = await page.evaluate(ENABLE)
    assert got["enable"] == "denied"
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        for who in ("lily", "tom"):
            listed = await http.get("/api/v1/push/subscriptions", headers=world[who].auth)
            assert listed.json() == []
    # Chromium's own console line for a private context (every Playwright context is
    # one): the reason subscribing fails here, not an error of careline's.
    assert [e for e in page_errors if "Push API in incognito" not in e] == []
