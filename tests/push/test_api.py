"""The push API: careline's key, subscribing a browser and unsubscribing it; what is
refused (and changes nothing); a subscription ending with its session."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from careline import config
from careline.keys import service as key_service
from careline.kit import limits
from careline.kit.crypto import MasterKey, new_key
from careline.push import service as push_service_module
from careline.push import vapid
from careline.push.channel import PushChannel
from tests.push.support import delivery_of, open_record, send, subscribe, subscriptions_of
from tests.realtime.test_live import open_care
from tests.support.pushservice import PushService, b64url
from tests.support.server import RunningServer
from tests.support.world import World, sign_in


async def test_the_key_is_one_p256_point_made_once_and_kept_wrapped(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    first = (await http.get("/api/v1/push/key", headers=world["lily"].auth)).json()["key"]
    other = (await http.get("/api/v1/push/key", headers=world["admin"].auth)).json()["key"]
    assert first == other
    assert len(vapid.b64url_decode(first)) == 65
    # On disk: wrapped by the master key. Read afresh it is the same key; under another
    # master key it does not open.
    ring = key_service.keyring()
    path = server.settings.data_dir / vapid.FILE_NAME
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    master_id, _, wrapped = path.read_text().strip().partition(":")
    assert master_id in ring.master_keys
    private = vapid.load(server.settings.data_dir, ring.master_keys, ring.current_master_id)
    raw = private.private_key.private_numbers().private_value.to_bytes(32, "big")
    assert b64url(raw) not in path.read_text()
    assert raw not in base64.b64decode(wrapped)
    vapid._cached.clear()
    again = vapid.load(server.settings.data_dir, ring.master_keys, ring.current_master_id)
    assert vapid.application_server_key(again) == first
    vapid._cached.clear()
    with pytest.raises(Exception, match=r"(?i)open|not loaded"):
        vapid.load(
            server.settings.data_dir, {master_id: MasterKey(master_id, new_key())}, master_id
        )
    vapid._cached.clear()
    vapid.load(server.settings.data_dir, ring.master_keys, ring.current_master_id)


async def test_the_key_needs_a_session(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/v1/push/key")).status_code == 401


def _subscription(
    endpoint: str, p256dh: str | None = None, auth: str | None = None
) -> dict[str, Any]:
    """A subscription with sound keys unless told otherwise."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": endpoint,
        "keys": {"p256dh": p256dh or b64url(point), "auth": auth or b64url(b"a" * 16)},
    }


@pytest.mark.parametrize(
    ("endpoint", "p256dh", "auth", "status", "code"),
    [
        ("http://push.example.com/p/1", None, None, 422, "push_endpoint_insecure"),
        ("ftp://push.example.com/p/1", None, None, 422, "push_endpoint_insecure"),
        ("http://10.0.0.7/p/1", None, None, 422, "push_endpoint_insecure"),
        (
            "https://push.example.com/" + "x" * limits.PUSH_ENDPOINT_MAX_CHARS,
            None,
            None,
            422,
            "push_endpoint_invalid",
        ),
        ("https://user:pw@push.example.com/p/1", None, None, 422, "push_endpoint_invalid"),
        ("https://push.example.com/p 1", None, None, 422, "push_endpoint_invalid"),
        ("https://push.example.com/p\x01", None, None, 422, "push_endpoint_invalid"),
        ("https://push.example.com:99999/p/1", None, None, 422, "push_endpoint_invalid"),
        ("not a url", None, None, 422, "push_endpoint_invalid"),
        (
            "https://push.example.com/p/1",
            "A" * (limits.PUSH_KEY_MAX_CHARS + 1),
            None,
            422,
            "push_key_invalid",
        ),
        (
            "https://push.example.com/p/1",
            b64url(b"\x04" + b"\x00" * 64),
            None,
            422,
            "push_key_invalid",
        ),
        ("https://push.example.com/p/1", b64url(b"\x04" * 33), None, 422, "push_key_invalid"),
        ("https://push.example.com/p/1", "!!not base64!!", None, 422, "push_key_invalid"),
        ("https://push.example.com/p/1", None, b64url(b"a" * 17), 422, "push_auth_invalid"),
        ("https://push.example.com/p/1", None, "A" * 500, 422, "push_auth_invalid"),
    ],
)
async def test_a_bad_subscription_is_refused_and_nothing_is_kept(
    http: httpx.AsyncClient,
    world: World,
    endpoint: str,
    p256dh: str | None,
    auth: str | None,
    status: int,
    code: str,
) -> None:
    response = await http.post(
        "/api/v1/push/subscriptions",
        json=_subscription(endpoint, p256dh, auth),
        headers=world["lily"].auth,
    )
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await subscriptions_of(world["lily"]) == 0


async def test_a_malformed_body_is_a_422(http: httpx.AsyncClient, world: World) -> None:
    for body in ({}, {"endpoint": "https://push.example.com/p"}, {"endpoint": 5, "keys": []}):
        response = await http.post(
            "/api/v1/push/subscriptions", json=body, headers=world["lily"].auth
        )
        assert response.status_code == 422, response.text
    assert await subscriptions_of(world["lily"]) == 0


async def test_a_request_from_another_site_is_refused(
    http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    browser = push_service.subscriber()
    headers = {**world["lily"].auth, "origin": "https://evil.example"}
    response = await http.post(
        "/api/v1/push/subscriptions", json=browser.subscription(), headers=headers
    )
    assert (response.status_code, response.json()["code"]) == (403, "foreign_origin")
    assert await subscriptions_of(world["lily"]) == 0
    own = {**world["lily"].auth, "origin": config.current().base_url}
    response = await http.post(
        "/api/v1/push/subscriptions", json=browser.subscription(), headers=own
    )
    assert response.status_code == 201, response.text
    gone = await http.request(
        "DELETE", "/api/v1/push/subscriptions", json={"endpoint": browser.endpoint}, headers=headers
    )
    assert (gone.status_code, gone.json()["code"]) == (403, "foreign_origin")
    assert await subscriptions_of(world["lily"]) == 1


async def test_in_production_only_public_https_push_services_are_taken(
    server: RunningServer,
) -> None:
    config.use(server.settings.model_copy(update={"public_url": "https://care.example.org"}))
    try:
        for refused, code in [
            ("http://127.0.0.1:9/push/1", "push_endpoint_insecure"),
            ("https://127.0.0.1/push/1", "push_endpoint_invalid"),
            ("https://localhost/push/1", "push_endpoint_invalid"),
            ("https://192.168.1.4/push/1", "push_endpoint_invalid"),
            ("https://[::1]/push/1", "push_endpoint_invalid"),
        ]:
            with pytest.raises(Exception) as caught:
                push_service_module.check_endpoint(refused)
            assert getattr(caught.value, "code", None) == code, refused
        url = "https://fcm.googleapis.com/fcm/send/abc"
        assert push_service_module.check_endpoint(url) == url
        assert push_service_module.contact() == "https://care.example.org"
    finally:
        config.use(server.settings)
    config.use(server.settings.model_copy(update={"public_url": "https://care.example.org:8443/x"}))
    try:
        assert push_service_module.contact() == "https://care.example.org"  # what VAPID takes
    finally:
        config.use(server.settings)


async def test_subscribing_again_replaces_and_unsubscribing_removes_only_ones_own(
    http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    browser = await subscribe(http, push_service, world["lily"])
    again = await http.post(
        "/api/v1/push/subscriptions", json=browser.subscription(), headers=world["lily"].auth
    )
    assert again.status_code == 201
    assert await subscriptions_of(world["lily"]) == 1

    theirs = await http.request(
        "DELETE",
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint},
        headers=world["tom"].auth,
    )
    assert (theirs.status_code, theirs.json()["code"]) == (404, "push_subscription_not_found")
    assert await subscriptions_of(world["lily"]) == 1

    mine = await http.request(
        "DELETE",
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint},
        headers=world["lily"].auth,
    )
    assert mine.status_code == 204
    assert await subscriptions_of(world["lily"]) == 0
    twice = await http.request(
        "DELETE",
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint},
        headers=world["lily"].auth,
    )
    assert twice.status_code == 404


async def test_a_shared_browser_belongs_to_whoever_subscribed_it_last(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    browser = await subscribe(http, push_service, world["lily"])
    response = await http.post(
        "/api/v1/push/subscriptions", json=browser.subscription(), headers=world["tom"].auth
    )
    assert response.status_code == 201
    assert await subscriptions_of(world["lily"]) == 0
    assert await subscriptions_of(world["tom"]) == 1


async def test_there_is_a_limit_of_browsers_per_person(
    http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    for _ in range(limits.PUSH_SUBSCRIPTIONS_MAX):
        await subscribe(http, push_service, world["jo"])
    extra = push_service.subscriber()
    response = await http.post(
        "/api/v1/push/subscriptions", json=extra.subscription(), headers=world["jo"].auth
    )
    assert (response.status_code, response.json()["code"]) == (409, "push_subscriptions_full")
    assert await subscriptions_of(world["jo"]) == limits.PUSH_SUBSCRIPTIONS_MAX


@pytest.mark.parametrize("ending", ["sign_out", "revoke"])
async def test_a_subscription_ends_with_its_session(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    ending: str,
) -> None:
    lily = world["lily"]
    token = await sign_in(server.base_url, lily.email)
    shared = {"authorization": f"Bearer {token}"}
    key = (await http.get("/api/v1/push/key", headers=shared)).json()["key"]
    browser = push_service.subscriber(server_key=key)
    response = await http.post(
        "/api/v1/push/subscriptions", json=browser.subscription(), headers=shared
    )
    assert response.status_code == 201
    kept = await subscribe(http, push_service, lily)  # her own phone, another session

    if ending == "sign_out":
        assert (await http.post("/api/v1/auth/logout", headers=shared)).status_code == 204
    else:
        sessions = (await http.get("/api/v1/auth/sessions", headers=lily.auth)).json()
        # The newest session that is not the one asking: the shared browser's.
        other = max((s for s in sessions if not s["current"]), key=lambda s: str(s["created_at"]))
        revoked = await http.delete(f"/api/v1/auth/sessions/{other['id']}", headers=lily.auth)
        assert revoked.status_code == 204
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "hello")

    result = await PushChannel().send(delivery_of(await open_record(lily, conversation_id)))

    assert result.outcome == "sent"
    assert push_service.received(browser) == []
    assert len(push_service.delivered(kept)) == 1
    assert await subscriptions_of(lily) == 1  # the ended session's is gone


def test_two_processes_starting_at_once_make_one_key(tmp_path: Path) -> None:
    ring = key_service.keyring()
    made = set()
    for _ in range(3):
        vapid._write_new(tmp_path / vapid.FILE_NAME, ring.master_keys[ring.current_master_id])
        vapid._cached.clear()
        key = vapid.load(tmp_path, ring.master_keys, ring.current_master_id)
        made.add(vapid.application_server_key(key))
    assert len(made) == 1
    assert [p.name for p in tmp_path.iterdir()] == [vapid.FILE_NAME]  # no drafts left
    vapid._cached.clear()
