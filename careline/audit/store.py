"""The audit domain's SQL."""

from __future__ import annotations

from careline.audit.records import Entry
from careline.db.tx import Tx

# One statement per transaction, however many entries it made.
_INSERT = """
INSERT INTO audit_events (id, tenant_id, at, actor_account_id, actor_role, session_id,
  action, conversation_id, object_id, subject_account_id, detail, reason_ct, key_version,
  source, user_agent)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::uuid[], $5::text[],
  $6::uuid[], $7::text[], $8::uuid[], $9::uuid[], $10::uuid[], $11::jsonb[], $12::bytea[],
  $13::int[], $14::inet[], $15::text[])
"""


async def insert_events(tx: Tx, entries: list[Entry]) -> None:
    if not entries:
        return
    await tx.conn.execute(
        _INSERT,
        [e.id for e in entries],
        [e.tenant_id for e in entries],
        [e.at for e in entries],
        [e.actor_account_id for e in entries],
        [e.actor_role for e in entries],
        [e.session_id for e in entries],
        [e.action for e in entries],
        [e.conversation_id for e in entries],
        [e.object_id for e in entries],
        [e.subject_account_id for e in entries],
        [e.detail for e in entries],
        [e.reason_ct for e in entries],
        [e.key_version for e in entries],
        [e.source for e in entries],
        [e.user_agent for e in entries],
    )
