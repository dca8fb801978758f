"""Alerts: a rule raises after its condition held for N evaluations, clears only after M
below its lower threshold (hysteresis), tells the admins concerned (and only them) with
no text, and the API shows the open alerts and the history.

The evaluator is driven here with the values and the moments the test chooses (the
server's own loop is off in the tests: tests/support/server.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from careline import config
from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.monitoring import alerts, alerts_runner
from careline.monitoring.alerts import Reading
from careline.monitoring.records import PartHealth, QueueState
from careline.notifications import channels, words
from tests.support.clamd import Clamd
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def counts(server: RunningServer) -> Iterator[config.Settings]:
    """Raise after 3 evaluations in a row, clear after 2."""
    settings = server.settings.model_copy(
        update={"alerts_raise_after": 3, "alerts_clear_after": 2, "alert_sign_in_failures": 50}
    )
    config.use(settings)
    yield settings
    config.use(server.settings)


def failures(world: World, n: int) -> list[Reading]:
    return [Reading(alerts.SIGN_IN_FAILURES, float(n), tenant_id=world.tenant_id)]


async def step(readings: list[Reading], at: dt.datetime, world: World) -> list[alerts.Alert]:
    """One evaluation; what it changed of this world's (other tests' are theirs)."""
    changed = await alerts.evaluate(readings, now=at)
    assert changed is not None, "another evaluator held the lock"
    return [a for a in changed if a.tenant_id == world.tenant_id]


async def alert_records(world: World, who: str) -> list[Any]:
    async with transaction(world[who].actor, readonly=True) as tx:
        return list(
            await tx.conn.fetch(
                "SELECT * FROM notifications WHERE account_id = $1 AND kind = 'alert' "
                "ORDER BY created_at",
                world[who].account_id,
            )
        )


async def test_a_rule_raises_after_n_and_clears_with_hysteresis(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    other_world: World,
    counts: config.Settings,
) -> None:
    t = clock.now()
    async with connect(server.ws_url, world["admin"].token) as admin_ws:
        # Two over the threshold, then one under: the count starts again.
        assert await step(failures(world, 60), t, world) == []
        assert await step(failures(world, 60), t + 1 * SECOND, world) == []
        assert await step(failures(world, 10), t + 2 * SECOND, world) == []
        assert await step(failures(world, 50), t + 3 * SECOND, world) == []
        assert await step(failures(world, 70), t + 4 * SECOND, world) == []
        [raised] = await step(failures(world, 55), t + 5 * SECOND, world)
        assert (raised.rule, raised.state, raised.value, raised.threshold) == (
            alerts.SIGN_IN_FAILURES,
            "raised",
            55.0,
            50.0,
        )
        assert raised.raised_at == t + 5 * SECOND
        live = await admin_ws.next_event("alert.raised")
        assert live["alert"]["id"] == str(raised.id)
        assert live["alert"]["scope"] == "organisation"

        # Still over: no second alert. Between the thresholds (25..50): it stays open,
        # and the clear count starts again.
        assert await step(failures(world, 80), t + 6 * SECOND, world) == []
        assert await step(failures(world, 30), t + 7 * SECOND, world) == []
        assert await step(failures(world, 10), t + 8 * SECOND, world) == []
        assert await step(failures(world, 30), t + 9 * SECOND, world) == []
        assert await step(failures(world, 10), t + 10 * SECOND, world) == []
        # Nothing measured for the organisation counts as no failures.
        [cleared] = await step([], t + 11 * SECOND, world)
        assert (cleared.id, cleared.state, cleared.cleared_at) == (
            raised.id,
            "cleared",
            t + 11 * SECOND,
        )
        live = await admin_ws.next_event("alert.cleared")
        assert live["alert"] == alerts.wire(cleared)

    got = await http.get("/api/v1/admin/alerts", headers=world["admin"].auth)
    assert got.status_code == 200, got.text
    body = got.json()
    assert [a for a in body["open"] if a["scope"] == "organisation"] == []
    [item] = [a for a in body["items"] if a["id"] == str(raised.id)]
    assert dt.datetime.fromisoformat(item.pop("raised_at")) == t + 5 * SECOND
    assert dt.datetime.fromisoformat(item.pop("cleared_at")) == t + 11 * SECOND
    assert item == {
        "id": str(raised.id),
        "rule": "sign_in_failures",
        "subject": None,
        "scope": "organisation",
        "state": "cleared",
        "value": 55.0,
        "threshold": 50.0,
    }

    # The organisation's admin was told once; nobody else, and nobody of the other one.
    [record] = await alert_records(world, "admin")
    assert (record["object_id"], record["conversation_id"], record["count"]) == (
        raised.id,
        None,
        1,
    )
    for who in ("sam", "lily"):
        assert await alert_records(world, who) == []
    assert await alert_records(other_world, "admin") == []
    theirs = await http.get("/api/v1/admin/alerts", headers=other_world["admin"].auth)
    assert str(raised.id) not in theirs.text


async def test_the_notification_says_an_alert_was_raised_and_nothing_else(
    http: httpx.AsyncClient, world: World, counts: config.Settings
) -> None:
    t = clock.now()
    for i in range(3):
        changed = await step(failures(world, 99), t + i * SECOND, world)
    [raised] = changed
    [record] = await alert_records(world, "admin")
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        row = await tx.conn.fetchrow(
            "SELECT n.*, t.name AS organisation FROM notifications n "
            "JOIN tenants t ON t.id = n.tenant_id WHERE n.id = $1",
            record["id"],
        )
    delivery = channels.Delivery.of_record(row, window=0)
    assert delivery.facts.link == (
        f"{config.current().base_url}/admin/monitoring?org={world.tenant_id}"
    )
    push = words.push_payload(delivery.facts, tag="t")
    assert push["body"] == "An alert was raised"
    mail = words.email(delivery.facts, unsubscribe_token="abc.def")
    everything = f"{push} {mail.subject} {mail.text} {mail.html}"
    for person in world.people.values():
        assert person.name not in everything
        assert person.email not in everything
    assert "sign_in" not in everything  # not even which rule: the page says
    # Clear it again (the next test's organisation starts from nothing open).
    for i in range(3, 5):
        changed = await step([], t + i * SECOND, world)
    assert [a.id for a in changed] == [raised.id]


async def test_instance_wide_alerts_reach_every_organisations_admins(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    other_world: World,
    counts: config.Settings,
) -> None:
    t = clock.now()
    slow = [Reading(alerts.QUEUE_AGE, 900.0)]
    async with (
        connect(server.ws_url, world["admin"].token) as a_ws,
        connect(server.ws_url, other_world["admin"].token) as b_ws,
        connect(server.ws_url, world["sam"].token) as sam_ws,
    ):
        for i in range(2):
            assert await alerts.evaluate(slow, now=t + i * SECOND) == []
        [raised] = await alerts.evaluate(slow, now=t + 2 * SECOND) or []
        assert (raised.rule, raised.tenant_id, raised.threshold) == (alerts.QUEUE_AGE, None, 300)
        for ws in (a_ws, b_ws):
            live = await ws.next_event("alert.raised")
            assert live["alert"]["scope"] == "instance"
        for w in (world, other_world):
            got = await http.get("/api/v1/admin/alerts", headers=w["admin"].auth)
            assert [a["id"] for a in got.json()["open"]] == [str(raised.id)], got.text
            [record] = await alert_records(w, "admin")
            assert record["object_id"] == raised.id
        # 200 s is under the threshold but not under half of it: still open.
        assert await alerts.evaluate([Reading(alerts.QUEUE_AGE, 200.0)], now=t + 3 * SECOND) == []
        assert await alerts.evaluate([Reading(alerts.QUEUE_AGE, 20.0)], now=t + 4 * SECOND) == []
        [cleared] = await alerts.evaluate([], now=t + 5 * SECOND) or []
        assert cleared.id == raised.id
        for ws in (a_ws, b_ws):
            await ws.next_event("alert.cleared")
        await sam_ws.assert_no_event("alert.raised", within=0)
        await sam_ws.assert_no_event("alert.cleared", within=0)
    assert await alert_records(world, "sam") == []


async def test_the_history_pages_newest_first(
    http: httpx.AsyncClient, world: World, counts: config.Settings
) -> None:
    t = clock.now()
    settings = counts.model_copy(update={"alerts_raise_after": 1, "alerts_clear_after": 1})
    config.use(settings)
    raised = []
    for i in range(3):
        [up] = await step(failures(world, 99), t + 2 * i * SECOND, world)
        [down] = await step([], t + (2 * i + 1) * SECOND, world)
        assert up.id == down.id
        raised.append(str(up.id))
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        got = await http.get("/api/v1/admin/alerts", params=params, headers=world["admin"].auth)
        assert got.status_code == 200, got.text
        seen += [a["id"] for a in got.json()["items"] if a["scope"] == "organisation"]
        cursor = got.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == raised[::-1]
    bad = await http.get(
        "/api/v1/admin/alerts", params={"cursor": "nonsense"}, headers=world["admin"].auth
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "invalid_cursor"


async def test_old_cleared_alerts_are_removed_after_alerts_keep_days(
    world: World, counts: config.Settings
) -> None:
    config.use(counts.model_copy(update={"alerts_raise_after": 1, "alerts_clear_after": 1}))
    t = clock.now() - dt.timedelta(days=counts.alerts_keep_days + 2)
    [up] = await step(failures(world, 99), t, world)
    await step([], t + SECOND, world)
    async with transaction(Actor.system(), readonly=True) as tx:
        assert await tx.conn.fetchval("SELECT count(*) FROM alerts WHERE id = $1", up.id) == 1
    await alerts.evaluate([], now=clock.now())
    async with transaction(Actor.system(), readonly=True) as tx:
        assert await tx.conn.fetchval("SELECT count(*) FROM alerts WHERE id = $1", up.id) == 0


def test_rules_take_their_thresholds_from_the_settings() -> None:
    settings = config.Settings(alert_delivery_p99_ms=800, alert_disk_free_percent=12)
    table = alerts.rules(settings)
    p99 = table[alerts.DELIVERY_P99]
    assert (p99.holds(800), p99.holds(799), p99.eases(399), p99.eases(400)) == (
        True,
        False,
        True,
        False,
    )
    disk = table[alerts.DISK_LOW]
    assert (disk.holds(11.9), disk.holds(12), disk.eases(17.1), disk.eases(17)) == (
        True,
        False,
        True,
        False,
    )


async def test_a_stopped_part_raises_part_down_and_starting_it_clears_it(
    world: World, other_world: World, counts: config.Settings, tmp_path: Path
) -> None:
    """A clamd of this test's own (the session's stays up): measured for real."""
    daemon = Clamd(tmp_path / "clamd")
    daemon.directory.mkdir()
    daemon.start()
    settings = counts.model_copy(update={"clamd_address": f"unix:{daemon.socket}"})
    config.use(settings)
    t = clock.now()

    async def clamd_changes(i: int) -> list[alerts.Alert]:
        readings = await alerts.measure(settings)
        measured = [r for r in readings if (r.rule, r.subject) == (alerts.PART_DOWN, "clamd")]
        assert [r.value for r in measured] == [0.0 if daemon.ping() else 1.0]
        changed = await alerts.evaluate(readings, now=t + i * SECOND, settings=settings)
        assert changed is not None
        return [a for a in changed if (a.rule, a.subject) == (alerts.PART_DOWN, "clamd")]

    try:
        for i in range(3):
            assert await clamd_changes(i) == []
        daemon.stop()
        assert await clamd_changes(3) == []
        assert await clamd_changes(4) == []
        [raised] = await clamd_changes(5)
        assert (raised.state, raised.tenant_id, raised.value, raised.threshold) == (
            "raised",
            None,
            1.0,
            1.0,
        )
        for w in (world, other_world):
            assert [r["object_id"] for r in await alert_records(w, "admin")] == [raised.id]
        daemon.start()
        assert await clamd_changes(6) == []
        [cleared] = await clamd_changes(7)
        assert (cleared.id, cleared.state) == (raised.id, "cleared")
    finally:
        if daemon.process is not None:
            daemon.stop()


async def test_the_evaluator_runs_by_itself_every_alerts_interval_seconds(
    server: RunningServer, tmp_path: Path
) -> None:
    """The loop each process runs: a stopped clamd of this test's own is raised without
    anyone calling the evaluator, and cleared once it answers again."""
    daemon = Clamd(tmp_path / "clamd")
    daemon.directory.mkdir()
    settings = server.settings.model_copy(
        update={
            "clamd_address": f"unix:{daemon.socket}",
            "alerts_interval_seconds": 0.05,
            "alerts_raise_after": 1,
            "alerts_clear_after": 1,
        }
    )
    config.use(settings)
    runner = alerts_runner.Runner()
    runner.start()
    try:
        assert not daemon.ping()
        await until_clamd_is(state="raised")
        daemon.start()
        await until_clamd_is(state=None)
    finally:
        await runner.stop()
        config.use(server.settings)
        if daemon.process is not None:
            daemon.stop()


async def until_clamd_is(*, state: str | None) -> None:
    """Poll until the open part_down alert of clamd is (or, None: is not) there."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        async with transaction(Actor.system(), readonly=True) as tx:
            found = await tx.conn.fetchval(
                "SELECT state FROM alerts WHERE rule = 'part_down' AND subject = 'clamd' "
                "AND state = 'raised'"
            )
        if found == state:
            return
        assert asyncio.get_running_loop().time() < deadline, f"clamd alert never {state}"
        await asyncio.sleep(0.05)  # a poll: it ends as soon as the loop has evaluated


def test_an_alert_link_is_careline_s_own_page_with_ids_only(server: RunningServer) -> None:
    org = uuid.uuid4()
    base = server.settings.base_url
    assert words.link_to("/admin/monitoring", org=org) == f"{base}/admin/monitoring?org={org}"
    for bad in ("/admin/Jane Doe", "/admin/monitoring/more/words", "/admin/monitoring?who=Jane"):
        with pytest.raises(ValueError, match="opaque ids"):
            words.check_link(base + bad)


def test_readings_from_what_the_monitoring_measured() -> None:
    org = uuid.uuid4()
    readings = alerts.readings_from(
        parts=[
            PartHealth("clamd", "down", "no_answer"),
            PartHealth("smtp", "off", "not_configured"),
            PartHealth("pool", "degraded", "exhausted"),
            PartHealth("disk", "degraded", "disk_low"),
        ],
        queues=[QueueState("a", 3, 12.0), QueueState("b", 1, 40.0), QueueState("c", 0, None)],
        delivery_p99_ms=None,
        http_requests=200,
        http_5xx=5,
        sign_in_failures={org: 7},
        disk_low_mark=10.0,
    )
    assert readings == [
        Reading(alerts.HTTP_5XX, 2.5),
        Reading(alerts.QUEUE_AGE, 40.0),
        Reading(alerts.PART_DOWN, 1.0, subject="clamd"),
        Reading(alerts.PART_DOWN, 0.0, subject="smtp"),
        Reading(alerts.PART_DOWN, 0.0, subject="pool"),
        Reading(alerts.PART_DOWN, 0.0, subject="disk"),
        Reading(alerts.DISK_LOW, 10.0),
        Reading(alerts.SIGN_IN_FAILURES, 7.0, tenant_id=org),
    ]
    # No requests: no 5xx; no deliveries: no p99 reading (counted as fine).
    assert alerts.readings_from() == [Reading(alerts.HTTP_5XX, 0.0), Reading(alerts.QUEUE_AGE, 0.0)]
