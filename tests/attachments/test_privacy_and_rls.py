"""No file name or content reaches the logs; and row-level security keeps unscanned
files to their uploader and scan results to the system, at the SQL level."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from careline.db import tx as db_tx
from tests.conftest import LogCapture
from tests.support import files
from tests.support.world import Persona, World


async def test_file_names_and_contents_never_reach_the_logs(
    http: httpx.AsyncClient, world: World, care: str, log_capture: LogCapture
) -> None:
    marker = f"zq{uuid.uuid4().hex[:12]}"
    sam, lily = world["sam"], world["lily"]
    uploaded = await files.upload(
        http, sam, care, f"{marker} discharge.jpg", files.photo_with_gps()
    )
    assert uploaded.status_code == 201, uploaded.text
    done = await files.wait_state(http, sam, uploaded.json()["id"])
    await files.send_with(http, sam, care, [done["id"]], text="photo")
    seen = (await http.get(f"/api/v1/attachments/{done['id']}", headers=lily.auth)).json()
    for url in seen["links"].values():
        assert (await http.get(url, headers=lily.auth)).status_code == 200
    refused = await files.upload(http, sam, care, f"{marker}.pdf", files.windows_exe())
    assert refused.status_code == 415
    logged = "\n".join(log_capture.lines)
    assert "/attachments 201" in logged, "the upload was logged at all"
    assert marker not in logged
    assert "PhoneMaker" not in logged, "EXIF values (camera, GPS) must not be logged"
    assert "discharge" not in logged


async def _as(conn: asyncpg.Connection, who: Persona) -> None:
    await conn.execute(
        "SELECT set_config('careline.account_id', $1, true), "
        "set_config('careline.tenant_id', $2, true), set_config('careline.role', $3, true)",
        str(who.account_id),
        str(who.tenant_id),
        who.role.value,
    )


@pytest.mark.parametrize("state", ["pending", "available"])
async def test_rls_keeps_unsent_files_to_their_uploader(
    http: httpx.AsyncClient, world: World, care: str, state: str
) -> None:
    sam = world["sam"]
    uploaded = await files.upload(http, sam, care, "plan.txt", b"care plan\n")
    attachment_id = uuid.UUID(uploaded.json()["id"])
    if state == "available":
        await files.wait_state(http, sam, str(attachment_id))
    async with db_tx.pool().acquire() as conn:
        for key, sees in (("sam", 1), ("lily", 0), ("grace", 0), ("admin", 0), ("jo", 0)):
            async with conn.transaction():
                await _as(conn, world[key])
                count = await conn.fetchval(
                    "SELECT count(*) FROM attachments WHERE id = $1", attachment_id
                )
                assert count == sees, key
                if key != "sam":
                    changed = await conn.execute(
                        "UPDATE attachments SET message_id = NULL WHERE id = $1", attachment_id
                    )
                    assert changed == "UPDATE 0", key


async def test_only_the_system_records_scan_results(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    sam = world["sam"]
    uploaded = await files.upload(http, sam, care, "plan.txt", b"care plan\n")
    attachment_id = uuid.UUID(uploaded.json()["id"])
    async with db_tx.pool().acquire() as conn:
        for statement in (
            "UPDATE attachments SET state = 'available' WHERE id = $1",
            "UPDATE attachments SET variants = '{\"thumb\": {}}' WHERE id = $1",
            "UPDATE attachments SET scan_result = 'clean' WHERE id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await _as(conn, sam)
                    await conn.execute(statement, attachment_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await _as(conn, sam)
                await conn.execute(
                    "INSERT INTO attachments (id, tenant_id, conversation_id, uploader_id, state, "
                    "name, media_type, kind, size, sha256, chunk_bytes, key_version) VALUES "
                    "($1, $2, $3, $4, 'available', '\\x00', 'text/plain', 'text', 1, $5, 1, 1)",
                    uuid.uuid4(),
                    world.tenant_id,
                    uuid.UUID(care),
                    sam.account_id,
                    b"\0" * 32,
                )


@pytest.mark.parametrize("persona", ["admin", "sam", "lily"])
async def test_rls_shows_no_file_of_another_organisation(
    http: httpx.AsyncClient, world: World, other_world: World, care: str, persona: str
) -> None:
    """Tenant B has a sent file and a quarantined one; tenant A's people see neither."""
    b_sam, b_lily = other_world["sam"], other_world["lily"]
    opened = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(b_lily.account_id)},
        headers=b_sam.auth,
    )
    b_care = opened.json()["id"]
    sent = await files.upload(http, b_sam, b_care, "b.txt", b"tenant B notes\n")
    await files.wait_state(http, b_sam, sent.json()["id"])
    assert (await files.send_with(http, b_sam, b_care, [sent.json()["id"]])).status_code == 201
    bad = await files.upload(http, b_lily, b_care, "bad.txt", files.EICAR_FILE)
    assert (await files.wait_state(http, b_lily, bad.json()["id"]))["state"] == "quarantined"
    async with db_tx.pool().acquire() as conn, conn.transaction():
        await _as(conn, world[persona])
        seen = await conn.fetchval(
            "SELECT count(*) FROM attachments WHERE tenant_id = $1", other_world.tenant_id
        )
        assert seen == 0
        changed = await conn.execute(
            "DELETE FROM attachments WHERE tenant_id = $1", other_world.tenant_id
        )
        assert changed == "DELETE 0"
