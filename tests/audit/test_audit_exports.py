"""Audit exports end to end: asked for over the API, written by the real job with its
progress, downloaded as CSV and JSON (and that download audited), kept encrypted,
refused when not ready, too large or too many, and removed after a day."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from careline.audit import exports
from careline.audit.browse import Filters
from careline.db.tx import Actor, transaction
from tests.audit.page_support import AGENT, record
from tests.realtime.test_live import open_care
from tests.support.world import World

EXPORTS = "/api/v1/admin/audit/exports"


async def _history(world: World, conversation: uuid.UUID, times: int) -> None:
    for _ in range(times):
        await record(world["sam"], "conversation.history_read", conversation_id=conversation)


async def _finished(http: httpx.AsyncClient, world: World, export_id: str) -> dict[str, Any]:
    """The export once its job has written it, polled as the page polls it."""
    deadline = time.monotonic() + 60
    while True:
        response = await http.get(f"{EXPORTS}/{export_id}", headers=world["admin"].auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert 0 <= body["done"] <= body["total"]
        if body["state"] == "done":
            return body
        assert time.monotonic() < deadline, f"the export job never finished: {body}"
        await asyncio.sleep(0.05)  # a poll: it ends as soon as the job has written it


async def _export(
    http: httpx.AsyncClient, world: World, fmt: str, **filters: str
) -> tuple[dict[str, Any], httpx.Response]:
    asked = await http.post(
        EXPORTS, json={"format": fmt, "filters": filters}, headers=world["admin"].auth
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["state"] == "queued"
    assert asked.json()["done"] == 0
    done = await _finished(http, world, asked.json()["id"])
    got = await http.get(f"{EXPORTS}/{done['id']}/download", headers=world["admin"].auth)
    assert got.status_code == 200, got.text
    return done, got


async def test_a_csv_export_holds_the_filtered_events_and_its_download_is_audited(
    http: httpx.AsyncClient, world: World
) -> None:
    care = uuid.UUID(await open_care(http, world))
    other = uuid.UUID(await open_care(http, world, "jo", "tom"))
    await _history(world, care, 3)
    await _history(world, other, 1)
    done, got = await _export(
        http, world, "csv", conversation_id=str(care), since="2000-01-01T00:00:00Z"
    )
    assert (done["done"], done["total"]) == (3, 3)
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith("attachment; filename=")
    assert got.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert len(rows) == 3
    assert {r["conversation_id"] for r in rows} == {str(care)}
    assert {(r["actor_name"], r["actor_role"], r["user_agent"]) for r in rows} == {
        ("Sam Clinician", "staff", AGENT)
    }
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    listed = await http.get(
        "/api/v1/admin/audit",
        params={"conversation_id": str(care), "action": "conversation.history_read"},
        headers=world["admin"].auth,
    )
    shown = [i["id"] for i in listed.json()["items"]]
    assert [r["id"] for r in rows] == shown
    trail = await http.get(
        "/api/v1/admin/audit", params={"category": "access"}, headers=world["admin"].auth
    )
    made = {i["action"]: i for i in trail.json()["items"]}
    assert made["export.created"]["object_id"] == done["id"]
    assert made["export.created"]["detail"] == {"count": 3, "format": "csv"}
    assert made["export.downloaded"]["object_id"] == done["id"]
    assert made["export.downloaded"]["actor_name"] == "Alex Admin"


async def test_a_json_export_is_one_document_and_is_kept_encrypted(
    http: httpx.AsyncClient, world: World
) -> None:
    care = uuid.UUID(await open_care(http, world))
    await _history(world, care, 2)
    reason = "Client at risk, seen by the duty manager"
    await record(world["admin"], "conversation.frozen", conversation_id=care, reason=reason)
    done, got = await _export(http, world, "json", conversation_id=str(care))
    assert got.headers["content-type"] == "application/json"
    events = json.loads(got.content)
    assert [e["action"] for e in events] == [
        "conversation.frozen",
        "conversation.history_read",
        "conversation.history_read",
    ]
    assert events[0]["reason"] == reason
    assert events[1]["actor_name"] == "Sam Clinician"
    async with transaction(Actor.system(world.tenant_id)) as tx:
        parts = await tx.conn.fetch(
            "SELECT ct FROM audit_export_parts WHERE export_id = $1", uuid.UUID(done["id"])
        )
    assert parts
    for part in parts:
        assert str(care).encode() not in part["ct"]
        assert reason.encode() not in part["ct"]
        assert b"Sam Clinician" not in part["ct"]


async def test_an_empty_export_is_a_valid_file(http: httpx.AsyncClient, world: World) -> None:
    nobody = str(world["tom"].account_id)
    _, as_json = await _export(http, world, "json", actor_id=nobody)
    assert json.loads(as_json.content) == []
    _, as_csv = await _export(http, world, "csv", actor_id=nobody)
    assert list(csv.reader(io.StringIO(as_csv.text))) == [list(exports.CSV_COLUMNS)]


async def _queued(world: World, filters: Filters, fmt: exports.Format = "csv") -> uuid.UUID:
    """An export asked for whose job is not queued (the test runs its steps itself)."""

    async def not_now(export_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        return None

    async with transaction(world["admin"].actor) as tx:
        export = await exports.do_create_export(tx, filters, format=fmt, defer=not_now)
    return export.id


async def test_progress_counts_each_part_and_the_download_waits_for_the_end(
    http: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    care = uuid.UUID(await open_care(http, world))
    await _history(world, care, 5)
    monkeypatch.setattr(exports, "AUDIT_EXPORT_BATCH", 2)
    export_id = await _queued(world, Filters(conversation_id=care))
    url = f"{EXPORTS}/{export_id}"
    seen = []
    for _ in range(3):
        early = await http.get(f"{url}/download", headers=world["admin"].auth)
        assert early.status_code == 409, early.text
        assert early.json()["code"] == "export_not_ready"
        async with transaction(Actor.system(world.tenant_id)) as tx:
            await exports.internal_write_next(tx, export_id)
        state = (await http.get(url, headers=world["admin"].auth)).json()
        seen.append((state["state"], state["done"], state["total"]))
    assert seen == [("running", 2, 5), ("running", 4, 5), ("done", 5, 5)]
    # Running the step again changes nothing: the job is safe to run twice.
    async with transaction(Actor.system(world.tenant_id)) as tx:
        assert await exports.internal_write_next(tx, export_id) is True
    got = await http.get(f"{url}/download", headers=world["admin"].auth)
    assert len(list(csv.DictReader(io.StringIO(got.text)))) == 5


async def test_exports_are_removed_after_a_day(http: httpx.AsyncClient, world: World) -> None:
    done, _ = await _export(http, world, "csv")
    created = dt.datetime.fromisoformat(done["created_at"])
    expires = dt.datetime.fromisoformat(done["expires_at"])
    assert expires - created == dt.timedelta(hours=exports.AUDIT_EXPORT_KEEP_HOURS)
    async with transaction(Actor.system()) as tx:
        await exports.internal_remove_expired(tx, now=expires - dt.timedelta(seconds=1), limit=500)
    assert (
        await http.get(f"{EXPORTS}/{done['id']}", headers=world["admin"].auth)
    ).status_code == 200
    async with transaction(Actor.system()) as tx:
        await exports.internal_remove_expired(tx, now=expires, limit=500)
    for path in (f"{EXPORTS}/{done['id']}", f"{EXPORTS}/{done['id']}/download"):
        gone = await http.get(path, headers=world["admin"].auth)
        assert gone.status_code == 404, gone.text
    async with transaction(Actor.system(world.tenant_id)) as tx:
        parts = await tx.conn.fetchval(
            "SELECT count(*) FROM audit_export_parts WHERE export_id = $1", uuid.UUID(done["id"])
        )
    assert parts == 0


async def test_the_export_limits_hold(
    http: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    care = uuid.UUID(await open_care(http, world))
    await _history(world, care, 3)
    auth = world["admin"].auth
    monkeypatch.setattr(exports, "AUDIT_EXPORT_MAX_EVENTS", 3)
    at_limit = await http.post(
        EXPORTS, json={"format": "csv", "filters": {"conversation_id": str(care)}}, headers=auth
    )
    assert at_limit.status_code == 202, at_limit.text
    await _finished(http, world, at_limit.json()["id"])
    await _history(world, care, 1)
    over = await http.post(
        EXPORTS, json={"format": "csv", "filters": {"conversation_id": str(care)}}, headers=auth
    )
    assert (over.status_code, over.json()["code"]) == (422, "export_too_large"), over.text
    assert over.json()["limit"] == 3
    for _ in range(exports.AUDIT_EXPORTS_UNFINISHED_MAX):
        await _queued(world, Filters(actor_id=world["tom"].account_id))
    busy = await http.post(EXPORTS, json={"format": "json"}, headers=auth)
    assert (busy.status_code, busy.json()["code"]) == (409, "exports_busy"), busy.text
    for body in (
        {"format": "xml"},
        {"format": "csv", "filters": {"action": "no.such"}},
        {"format": "csv", "filters": {"since": 0.5}},
        {"format": "csv", "filters": {"until": "2026-12-02T10:00:00"}},
        {},
    ):
        bad = await http.post(EXPORTS, json=body, headers=auth)
        assert bad.status_code == 422, (body, bad.text)
