"""What the same PostgreSQL does alone, driven by pgbench from the same wheel (C,
prepared statements), so the figures are the database's, not a Python driver's:

- `insert`: committed single-row inserts of a message-sized row, each its own
  transaction, into a table with the shape and indexes of `messages` (no row-level
  security, no foreign keys): the issue's yardstick for careline's efficiency.
- `send_sql`: the statements of one careline send, as careline_app under row-level
  security, in the scenario's own conversations: where the database alone stops.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from careline.db.database import EMBEDDED_DATABASE as CARELINE_DATABASE
from careline.db.embedded import PORT, EmbeddedPostgres, _bin_dir
from careline.db.pool import APP_ROLE, connect_owner

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


# One careline send, statement for statement as tx.py, conversations/store.py and
# messages/store.py issue it (BEGIN carries the actor; the access check, the
# conversation's lock, its seq and the event are one statement).
# A pgbench client is one sender: bench_senders maps its client id to its conversation.
_SEND_SCRIPT = (
    "\\set n random(1, 9000000000000000000)\n"
    "SELECT conversation_id AS conv, account_id AS me, tenant_id AS tenant FROM bench_senders "
    "WHERE client = :client_id \\gset\n"
    "BEGIN;\n"
    "SELECT set_config('careline.account_id', :me, true), "
    "set_config('careline.tenant_id', :tenant, true), set_config('careline.role', 'staff', true);\n"
    "WITH s AS (UPDATE conversations c SET last_seq = c.last_seq + 1, last_activity_at = now(), "
    "last_message_seq = CASE WHEN true THEN c.last_seq + 1 ELSE c.last_message_seq END, "
    "message_count = c.message_count + CASE WHEN true THEN 1 ELSE 0 END "
    "FROM participants p WHERE c.id = :conv AND p.conversation_id = c.id AND p.account_id = :me "
    "RETURNING c.last_seq, c.tenant_id, c.message_count), "
    "own AS (UPDATE participants o SET read_seq = s.last_seq, "
    "delivered_seq = greatest(o.delivered_seq, s.last_seq), read_messages = s.message_count, "
    "own_after_read = 0, redacted_after_read = 0 FROM s "
    "WHERE true AND o.conversation_id = :conv AND o.account_id = :me), "
    "e AS (INSERT INTO events (conversation_id, seq, "
    "tenant_id, type, actor_id, message_id, subject_id, data) SELECT :conv, s.last_seq, "
    "s.tenant_id, 'message.sent', :me, gen_random_uuid(), NULL, '{}' FROM s "
    "RETURNING seq, created_at) SELECT e.seq AS seq, e.created_at, s.message_count AS ordinal, "
    "true AND EXISTS (SELECT 1 FROM participants a WHERE a.conversation_id = :conv "
    "AND a.archived AND a.account_id <> :me) AS archived_others "
    "FROM e, s \\gset\n"
    "INSERT INTO messages (id, tenant_id, conversation_id, seq, sender_id, client_msg_id, "
    "reply_to_id, body, key_version, ordinal) VALUES (gen_random_uuid(), :tenant, :conv, :seq, "
    ":me, 'pgb-' || :n, NULL, '\\x" + "ab" * (12 + 75 + 16) + "'::bytea, 1, :ordinal) "
    "ON CONFLICT (conversation_id, sender_id, client_msg_id) DO NOTHING RETURNING created_at;\n"
    "COMMIT;\n"
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
    tps = await asyncio.to_thread(
        _pgbench,
        server,
        _SCRIPT,
        user="postgres",
        database=DATABASE,
        clients=connections,
        seconds=seconds,
    )
    return Alone(tps, connections, seconds)


async def measure_send_sql(
    pgdata: Path, *, senders: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]], seconds: float
) -> Alone:
    """Careline's send statements through pgbench, one client per (conversation,
    sender account, tenant), in the careline database the scenario used."""
    server = EmbeddedPostgres(pgdata)
    conn = await connect_owner(server.dsn(user="postgres", database=CARELINE_DATABASE))
    try:
        await conn.execute(
            "CREATE TABLE bench_senders (client int PRIMARY KEY, conversation_id uuid, "
            "account_id uuid, tenant_id uuid)"
        )
        await conn.executemany(
            "INSERT INTO bench_senders VALUES ($1, $2, $3, $4)",
            [(i, *sender) for i, sender in enumerate(senders)],
        )
        await conn.execute(f"GRANT SELECT ON bench_senders TO {APP_ROLE}")
    finally:
        await conn.close()
    tps = await asyncio.to_thread(
        _pgbench,
        server,
        _SEND_SCRIPT,
        user=APP_ROLE,
        database=CARELINE_DATABASE,
        clients=len(senders),
        seconds=seconds,
    )
    return Alone(tps, len(senders), seconds)


def _pgbench(
    server: EmbeddedPostgres, sql: str, *, user: str, database: str, clients: int, seconds: float
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "script.sql"
        script.write_text(sql)
        result = subprocess.run(  # noqa: S603 - the wheel's own pgbench, no shell
            [
                str(_bin_dir() / "pgbench"),
                *("-h", str(server.socket_dir), "-p", str(PORT), "-U", user),
                *("-n", "-M", "prepared", "-c", str(clients), "-j", "2"),
                *("-T", str(round(seconds)), "-f", str(script), database),
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
