"""Who may watch which dashboard, over the socket and over REST: an organisation's
admins their organisation only; operators the whole instance; staff, clients and
guardians nothing. Refused with the documented codes (docs/errors.md)."""

from __future__ import annotations

import httpx
import pytest

from tests.monitoring.support import make_operator
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsError, connect

# (persona, is an operator, scope) -> the error code, or None when allowed.
MATRIX = [
    ("admin", False, "tenant", None),
    ("admin", False, "instance", "operator_only"),
    ("admin", True, "instance", None),
    ("sam", False, "tenant", "admin_only"),
    ("sam", False, "instance", "operator_only"),
    ("sam", True, "tenant", "admin_only"),  # an operator who is staff here: the instance only
    ("sam", True, "instance", None),
    ("lily", False, "tenant", "admin_only"),
    ("lily", False, "instance", "operator_only"),
    ("grace", False, "tenant", "admin_only"),
    ("grace", False, "instance", "operator_only"),
]


@pytest.mark.parametrize(("persona", "operator", "scope", "refused"), MATRIX)
async def test_who_may_subscribe_and_read_a_snapshot(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    persona: str,
    operator: bool,
    scope: str,
    refused: str | None,
) -> None:
    who = world[persona]
    if operator:
        await make_operator(who)
    response = await http.get("/api/v1/admin/monitoring", params={"scope": scope}, headers=who.auth)
    async with connect(server.ws_url, who.token) as ws:
        if refused is None:
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["scope"] == scope
            assert body["tenant_id"] == (str(world.tenant_id) if scope == "tenant" else None)
            subscribed = await ws.request("monitor.subscribe", scope=scope)
            assert subscribed["scope"] == scope
            assert subscribed["operator"] is operator
            assert subscribed["snapshot"]["scope"] == scope
            assert await ws.request("monitor.unsubscribe") == {"subscribed": True}
        else:
            assert response.status_code == 403, response.text
            assert response.json()["code"] == refused
            with pytest.raises(WsError) as refusal:
                await ws.request("monitor.subscribe", scope=scope)
            assert refusal.value.code == refused
            assert await ws.request("monitor.unsubscribe") == {"subscribed": False}


async def test_an_operator_removed_may_watch_the_instance_no_more(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    admin = world["admin"]
    await make_operator(admin)
    url, params = "/api/v1/admin/monitoring", {"scope": "instance"}
    assert (await http.get(url, params=params, headers=admin.auth)).status_code == 200
    await make_operator(admin, operator=False)
    refused = await http.get(url, params=params, headers=admin.auth)
    assert refused.status_code == 403
    assert refused.json()["code"] == "operator_only"


async def test_a_scope_that_does_not_exist_is_refused(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    admin = world["admin"]
    response = await http.get(
        "/api/v1/admin/monitoring", params={"scope": "galaxy"}, headers=admin.auth
    )
    assert response.status_code == 422, response.text
    async with connect(server.ws_url, admin.token) as ws:
        with pytest.raises(WsError) as refusal:
            await ws.request("monitor.subscribe", scope="galaxy")
        assert refusal.value.code == "invalid_input"
        with pytest.raises(WsError) as extra:
            await ws.request("monitor.subscribe", scope="tenant", tenant_id=str(world.tenant_id))
        assert extra.value.code == "invalid_input"
    unsigned = await http.get("/api/v1/admin/monitoring")
    assert unsigned.status_code == 401
