"""Message text is ciphertext at rest; key rotation keeps old messages readable; a
ciphertext moved to another row does not open."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import uuid
from pathlib import Path

import httpx

from careline.db.pool import connect_owner
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World


def owner_dsn(server: RunningServer) -> str:
    dsn: str = server.server.config.app.state.database.owner_dsn  # type: ignore[attr-defined]
    return dsn


async def send(http: httpx.AsyncClient, world: World, conversation_id: str, text: str) -> dict:
    r = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text},
        headers=world["sam"].auth,
    )
    assert r.status_code == 201, r.text
    body: dict = r.json()
    return body


async def test_message_text_never_reaches_disk_in_the_clear(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    marker = f"plaintext-canary-{uuid.uuid4().hex}"
    message = await send(http, world, conversation_id, marker)
    await http.patch(
        f"/api/v1/messages/{message['id']}",
        json={"text": marker + " (edited)"},
        headers=world["sam"].auth,
    )
    conn = await connect_owner(owner_dsn(server))
    try:
        row = await conn.fetchrow(
            "SELECT body, key_version FROM messages WHERE id = $1", uuid.UUID(message["id"])
        )
        old = await conn.fetchval(
            "SELECT body FROM message_revisions WHERE message_id = $1", uuid.UUID(message["id"])
        )
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    assert marker.encode() not in bytes(row["body"])
    assert marker.encode() not in bytes(old)
    assert len(bytes(row["body"])) >= 12 + 16 + len(marker)  # nonce + tag + text
    # Not in any table, index or WAL file of the database either.
    pgdata = server.settings.data_dir / "pgdata"
    needle = marker.encode()
    for path in pgdata.rglob("*"):
        if path.is_file() and path.name != "server.log":
            assert needle not in path.read_bytes(), f"plaintext found in {path}"


async def test_rotation_starts_a_new_key_and_old_messages_still_read(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    before = await send(http, world, conversation_id, "written under the old key")
    env = {
        **os.environ,
        "CARELINE_DATA_DIR": str(server.settings.data_dir),
        "CARELINE_DATABASE_DURABLE": "false",
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "careline"),
        "keys",
        "rotate",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert "rotated" in out.decode()
    assert f"{world.tenant_id}: now version 2" in out.decode()
    await asyncio.sleep(server.settings.key_cache_seconds + 0.1)
    after = await send(http, world, conversation_id, "written under the new key")
    conn = await connect_owner(owner_dsn(server))
    try:
        versions = dict(
            await conn.fetch(
                "SELECT id, key_version FROM messages WHERE id = ANY($1::uuid[])",
                [uuid.UUID(before["id"]), uuid.UUID(after["id"])],
            )
        )
        wrapped = await conn.fetch(
            "SELECT version, wrapped FROM tenant_keys WHERE tenant_id = $1", world.tenant_id
        )
    finally:
        await conn.close()
    assert versions == {uuid.UUID(before["id"]): 1, uuid.UUID(after["id"]): 2}
    assert sorted(r["version"] for r in wrapped) == [1, 2]
    assert all(len(bytes(r["wrapped"])) == 12 + 32 + 16 for r in wrapped)  # sealed, never raw
    history = (
        await http.get(
            f"/api/v1/conversations/{conversation_id}/messages", headers=world["lily"].auth
        )
    ).json()
    assert [m["text"] for m in history["items"]] == [
        "written under the old key",
        "written under the new key",
    ]
    # Editing an old message re-encrypts the new text under the new key.
    await http.patch(
        f"/api/v1/messages/{before['id']}", json={"text": "edited later"}, headers=world["sam"].auth
    )
    revisions = (
        await http.get(f"/api/v1/messages/{before['id']}/revisions", headers=world["sam"].auth)
    ).json()
    assert [r["text"] for r in revisions] == ["written under the old key", "edited later"]


async def test_a_ciphertext_moved_to_another_row_does_not_open(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    source = await send(http, world, conversation_id, "the real note for message one")
    target = await send(http, world, conversation_id, "message two")
    conn = await connect_owner(owner_dsn(server))
    try:
        await conn.execute(
            "UPDATE messages SET body = s.body, key_version = s.key_version, revision = s.revision "
            "FROM messages s WHERE s.id = $1 AND messages.id = $2",
            uuid.UUID(source["id"]),
            uuid.UUID(target["id"]),
        )
    finally:
        await conn.close()
    tampered = await http.get(f"/api/v1/messages/{target['id']}", headers=world["lily"].auth)
    assert tampered.status_code == 500
    assert tampered.json()["code"] == "integrity_error"
    assert "the real note" not in tampered.text
    intact = await http.get(f"/api/v1/messages/{source['id']}", headers=world["lily"].auth)
    assert intact.json()["text"] == "the real note for message one"


def test_the_master_key_file_is_private(server: RunningServer) -> None:
    mode = (server.settings.data_dir / "master.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
