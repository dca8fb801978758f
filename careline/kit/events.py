"""The envelope of everything that travels from a committed transaction to sockets."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened.

    `data` holds ids and numbers only, never text or names: it may cross a process
    boundary (the Redis bus). `frame` is the already-encoded wire frame when the node that
    committed the change rendered it; it never leaves the process, and a node that gets an
    event without it renders the frame from PostgreSQL.
    """

    type: str
    tenant_id: uuid.UUID
    conversation_id: uuid.UUID | None = None
    seq: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    account_ids: tuple[uuid.UUID, ...] = ()
    frame: str | None = field(default=None, compare=False, repr=False)
    # When its transaction committed (time.monotonic() of this process), stamped as it is
    # published; the socket that writes it measures delivery latency from it. It never
    # crosses the bus: another process's clock means nothing here.
    committed_at: float | None = field(default=None, compare=False, repr=False)

    def to_bus(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "tenant_id": str(self.tenant_id),
            "conversation_id": str(self.conversation_id) if self.conversation_id else None,
            "seq": self.seq,
            "data": dict(self.data),
            "account_ids": [str(a) for a in self.account_ids],
        }

    @classmethod
    def from_bus(cls, raw: Mapping[str, Any]) -> Event:
        conversation_id = raw.get("conversation_id")
        return cls(
            type=str(raw["type"]),
            tenant_id=uuid.UUID(raw["tenant_id"]),
            conversation_id=uuid.UUID(conversation_id) if conversation_id else None,
            seq=raw.get("seq"),
            data=raw.get("data") or {},
            account_ids=tuple(uuid.UUID(a) for a in raw.get("account_ids") or ()),
        )
