"""What the same PostgreSQL does alone: committed single-row inserts of a message-sized
row, each its own transaction, from as many connections as careline's pool holds.

The client is pgbench from the same wheel (C, prepared statements), so the figure is the
database's, not a Python driver's. The table has the shape and indexes of `messages`
(without row-level security or foreign keys): the ceiling careline's sends are held to.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from careline.db.embedded import PORT, EmbeddedPostgres, _bin_dir
from careline.db.pool import connect_owner

DATABASE = "bench_alone"
_SCHEMA = """
CREATE TABLE messages_alone (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  conversation_id uuid NOT NULL,
  seq bigint NOT NULL,
  sender_id uuid NOT NULL,
  client_msg_id text NOT NULL,
  body bytea NOT NULL,
  key_version int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, sender_id, client_msg_id)
);
CREATE SEQUENCE messages_alone_seq;
"""
# One pgbench transaction: 20 conversations, a sealed body of 12-byte nonce + 75 bytes of
# text + 16-byte tag. pgbench wants the statement on one line.
_SCRIPT = (
    "\\set c random(1, 20)\n"
    "INSERT INTO messages_alone (id, tenant_id, conversation_id, seq, sender_id, "
    "client_msg_id, body, key_version) VALUES (gen_random_uuid(), "
    "'00000000-0000-0000-0000-000000000001', "
    "('00000000-0000-0000-0000-' || lpad(:c::text, 12, '0'))::uuid, "
    "nextval('messages_alone_seq'), '00000000-0000-0000-0000-000000000002', "
    "gen_random_uuid()::text, '\\x" + "ab" * (12 + 75 + 16) + "'::bytea, 1);\n"
)


@dataclass(frozen=True, slots=True)
class Alone:
    inserts_per_s: float
    connections: int
    seconds: float


async def measure(pgdata: Path, *, connections: int, seconds: float) -> Alone:
    server = EmbeddedPostgres(pgdata)
    admin = await connect_owner(server.dsn(user="postgres", database="postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    conn = await connect_owner(server.dsn(user="postgres", database=DATABASE))
    try:
        await conn.execute(_SCHEMA)
    finally:
        await conn.close()
    tps = await asyncio.to_thread(_pgbench, server, connections, seconds)
    return Alone(tps, connections, seconds)


def _pgbench(server: EmbeddedPostgres, connections: int, seconds: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "insert.sql"
        script.write_text(_SCRIPT)
        result = subprocess.run(  # noqa: S603 - the wheel's own pgbench, no shell
            [
                str(_bin_dir() / "pgbench"),
                *("-h", str(server.socket_dir), "-p", str(PORT), "-U", "postgres"),
                *("-n", "-M", "prepared", "-c", str(connections), "-j", "2"),
                *("-T", str(round(seconds)), "-f", str(script), DATABASE),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 60,
        )
    found = re.search(r"tps = ([0-9.]+)", result.stdout)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed: {result.stderr.strip()[-1000:]}")
    return float(found.group(1))
