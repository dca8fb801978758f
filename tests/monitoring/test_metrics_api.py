"""/metrics and /health/detailed from the outside: a scrape of a server that just
carried messages, a refused op and a failed sign-in holds the series and none of that
text, no person's name, e-mail or any id; both endpoints need the metrics token (404
without one configured, 401 without it or with another); the loopback port answers
without one; /health/detailed says which part is down, with a clamd of the test's own."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from careline import config
from careline.monitoring import api as monitoring_api
from careline.monitoring import collector
from tests.realtime.test_live import open_care
from tests.support.clamd import Clamd
from tests.support.server import RunningServer, free_port
from tests.support.world import World
from tests.support.ws import WsError, connect

# Fixed, not random: every pytest-xdist worker must collect the same parameters.
TOKEN = "metrics-test-token-5f0c9a7e2b1d4c63"


@pytest.fixture
def with_token(server: RunningServer) -> Iterator[dict[str, str]]:
    config.use(server.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}))
    yield {"authorization": f"Bearer {TOKEN}"}
    config.use(server.settings)


def samples(page: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Each sample name's (labels, value) pairs."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for got, v in found.get(name, []) if labels.items() <= got.items())


@pytest.mark.parametrize("path", ["/metrics", "/health/detailed"])
async def test_not_served_without_a_token_configured(http: httpx.AsyncClient, path: str) -> None:
    assert config.current().metrics_token is None
    response = await http.get(path, headers={"authorization": "Bearer anything"})
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/metrics", "/health/detailed"])
@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
)
async def test_refused_without_the_token_or_with_another(
    http: httpx.AsyncClient, with_token: dict[str, str], path: str, header: str | None
) -> None:
    headers = {"authorization": header} if header is not None else {}
    response = await http.get(path, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "metrics_token_required"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "careline_" not in response.text


async def test_a_scrape_holds_the_series_and_no_health_data(
    server: RunningServer, http: httpx.AsyncClient, world: World, with_token: dict[str, str]
) -> None:
    marker = f"MARKER-{uuid.uuid4().hex}"
    conversation_id = await open_care(http, world)
    async with (
        connect(server.ws_url, world["sam"].token) as sam,
        connect(server.ws_url, world["lily"].token) as lily,
    ):
        for i in range(3):
            await sam.request(
                "message.send",
                conversation_id=conversation_id,
                client_msg_id=f"m{i}",
                text=f"{marker} {i}",
            )
        for _ in range(3):
            assert marker in (await lily.next_event("message.sent"))["message"]["text"]
        # A refused op, counted by its op and code; an unknown op, refused by its code
        # only (a name a client makes up is never a label).
        with pytest.raises(WsError, match="not_found"):
            await sam.request(
                "message.send",
                conversation_id=str(uuid.uuid4()),
                client_msg_id="x",
                text=marker,
            )
        with pytest.raises(WsError, match="unknown_op"):
            await sam.request(f"op.{marker}")
    refused = await http.post(
        "/api/v1/auth/token", json={"email": world["lily"].email, "password": marker}
    )
    assert refused.status_code == 401, refused.text
    await until_counted(world)
    await http.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world["sam"].auth)

    # The live events reached lily's socket: the delivery latency of her organisation.
    assert collector.series(world.tenant_id).deliveries >= 3
    assert collector.series(world.tenant_id).delivery_p99_ms is not None

    response = await http.get("/metrics", headers=with_token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    page = response.text
    found = samples(page)
    route = "/api/v1/conversations/{conversation_id}/messages"
    assert value(found, "careline_http_requests_total", route=route, status_class="2xx") >= 1
    assert value(found, "careline_http_request_duration_seconds_count", route=route) >= 1
    assert value(found, "careline_socket_frames_total", op="message.send") >= 4
    assert value(found, "careline_socket_errors_total", op="message.send", code="not_found") >= 1
    assert value(found, "careline_sign_in_failures_total") >= 1
    assert value(found, "careline_socket_frames_refused_total", code="unknown_op") >= 1
    assert value(found, "careline_delivery_latency_seconds_count") >= 3
    assert value(found, "careline_delivery_latency_seconds_bucket", le="+Inf") >= 3
    assert value(found, "careline_part_up", part="postgres") == 1
    assert value(found, "careline_part_state", part="smtp", state="off") == 1
    assert value(found, "careline_pool_connections", state="max") == server.settings.db_pool_size
    assert "careline_sockets_open" in found
    assert "careline_process_resident_memory_bytes" in found
    for family in ("careline_queue_depth", "careline_notification_attempts_last_hour"):
        assert f"# TYPE {family} gauge" in page

    # Nothing that is a person's, a conversation's or text.
    forbidden = [marker, conversation_id, str(world.tenant_id), world.slug]
    for persona in world.people.values():
        forbidden += [persona.name, persona.email, str(persona.account_id)]
    for text in forbidden:
        assert text not in page, text
    uuid_like = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert not uuid_like.search(page)


async def until_counted(world: World) -> None:
    """The failed sign-in, for lily's organisation too (looked up after the answer)."""
    for _ in range(200):
        if sum(collector.series(world.tenant_id).minutes[collector.SIGN_IN_FAILURES]):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the failed sign-in never counted for lily's organisation")


async def test_the_loopback_port_answers_without_a_token(server: RunningServer) -> None:
    port = free_port()
    settings = server.settings.model_copy(update={"metrics_port": port})
    side = monitoring_api.LoopbackServer(settings, hub=type("Hub", (), {"sockets": set()})())
    await side.start()
    try:
        assert side.server is not None
        assert side.server.config.host == "127.0.0.1"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            scraped = await client.get("/metrics")
            assert scraped.status_code == 200, scraped.text
            assert "careline_http_requests_total" in scraped.text
            detailed = await client.get("/health/detailed")
            assert detailed.json()["parts"][0]["name"] == "postgres"
    finally:
        await side.stop()


async def test_the_loopback_port_is_off_by_default(server: RunningServer) -> None:
    side = monitoring_api.LoopbackServer(server.settings, hub=None)
    await side.start()
    assert side.server is None
    await side.stop()


async def test_health_detailed_reports_clamd_down_when_it_stops(
    server: RunningServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    own = Clamd(tmp_path / "clamd")
    own.directory.mkdir()
    own.start()
    try:
        config.use(
            server.settings.model_copy(
                update={"metrics_token": SecretStr(TOKEN), "clamd_address": f"unix:{own.socket}"}
            )
        )
        auth = {"authorization": f"Bearer {TOKEN}"}
        up = await http.get("/health/detailed", headers=auth)
        assert up.status_code == 200, up.text
        parts = {p["name"]: p for p in up.json()["parts"]}
        assert parts["clamd"]["state"] == "up"
        assert parts["postgres"]["state"] == "up"
        assert parts["turn"] == {
            "name": "turn",
            "state": "off",
            "reason": "not_configured",
            "latency_ms": None,
            "figures": {},
        }
        assert up.json()["status"] in ("up", "degraded")
        own.stop()
        down = await poll_until_down(http, auth)
        assert down.status_code == 503, down.text
        assert down.json()["status"] == "down"
        clamd = next(p for p in down.json()["parts"] if p["name"] == "clamd")
        assert (clamd["state"], clamd["reason"]) == ("down", "no_answer")
        assert all(p["state"] != "down" for p in down.json()["parts"] if p["name"] != "clamd")
    finally:
        config.use(server.settings)
        if own.process is not None:
            own.stop()


async def poll_until_down(http: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """Checks are shared for a moment (health.CACHE_SECONDS): poll until one is fresh."""
    for _ in range(200):
        response = await http.get("/health/detailed", headers=auth)
        if response.status_code == 503:
            return response
        await asyncio.sleep(0.05)
    raise AssertionError(f"clamd never reported down: {response.text}")
