"""SQL for invitations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Role, Tx
from careline.invitations.records import Delivery, Invitation, Offer, State

_COLUMNS = (
    "i.id, i.tenant_id, i.email, i.display_name, i.role, i.state, i.delivery, "
    "i.created_at, i.expires_at"
)


def _invitation(row: Any) -> Invitation:
    return Invitation(
        id=row["id"],
        tenant_id=row["tenant_id"],
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        state=State(row["state"]),
        delivery=Delivery(row["delivery"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


async def upsert_pending(
    tx: Tx,
    *,
    invitation_id: uuid.UUID,
    tenant_id: uuid.UUID,
    email: str,
    display_name: str,
    role: Role,
    invited_by: uuid.UUID | None,
    expires_at: dt.datetime,
    token_hash: bytes | None,
    delivery: Delivery,
) -> Invitation:
    """A new pending invitation, or the pending one to the same e-mail renewed: what the
    admin typed now, a fresh token (the old one stops working) and a fresh expiry."""
    row = await tx.conn.fetchrow(
        f"""INSERT INTO invitations AS i (id, tenant_id, email, display_name, role,
                invited_by, expires_at, token_hash, delivery)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (tenant_id, lower(email)) WHERE state = 'pending' DO UPDATE SET
                email = EXCLUDED.email, display_name = EXCLUDED.display_name,
                role = EXCLUDED.role, invited_by = EXCLUDED.invited_by,
                created_at = now(), expires_at = EXCLUDED.expires_at,
                token_hash = EXCLUDED.token_hash, delivery = EXCLUDED.delivery,
                mailed_at = NULL
            RETURNING {_COLUMNS}""",  # noqa: S608 - constant column list
        invitation_id,
        tenant_id,
        email,
        display_name,
        role.value,
        invited_by,
        expires_at,
        token_hash,
        delivery.value,
    )
    return _invitation(row)


async def list_pending(
    tx: Tx, tenant_id: uuid.UUID, *, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Invitation]:
    """Newest first, along invitations_pending. With and without a cursor are two
    statements: a generic plan cannot make an index condition of "$n IS NULL OR ..."."""
    cursor = "AND (i.created_at, i.id) < ($3, $4::uuid) " if after else ""
    rows = await tx.conn.fetch(
        f"SELECT {_COLUMNS} FROM invitations i WHERE i.tenant_id = $1 AND i.state = 'pending' "  # noqa: S608 - constant fragments
        f"{cursor}ORDER BY i.created_at DESC, i.id DESC LIMIT $2",
        tenant_id,
        limit,
        *(after or ()),
    )
    return [_invitation(r) for r in rows]


async def lock(tx: Tx, invitation_id: uuid.UUID) -> Invitation | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_COLUMNS} FROM invitations i WHERE i.id = $1 FOR UPDATE",  # noqa: S608 - constant column list
        invitation_id,
    )
    return _invitation(row) if row else None


async def lock_by_token(tx: Tx, token_hash: bytes) -> Invitation | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_COLUMNS} FROM invitations i WHERE i.token_hash = $1 FOR UPDATE",  # noqa: S608 - constant column list
        token_hash,
    )
    return _invitation(row) if row else None


async def close(
    tx: Tx, invitation_id: uuid.UUID, state: State, *, account_id: uuid.UUID | None = None
) -> bool:
    status = await tx.conn.execute(
        "UPDATE invitations SET state = $2, closed_at = now(), account_id = $3 "
        "WHERE id = $1 AND state = 'pending'",
        invitation_id,
        state.value,
        account_id,
    )
    return bool(status == "UPDATE 1")


async def list_offers(tx: Tx, *, now: dt.datetime) -> list[Offer]:
    """Pending, unexpired invitations addressed to the acting account's e-mail (an
    admin's RLS also shows the organisation's own; the e-mail match leaves those out)."""
    rows = await tx.conn.fetch(
        f"SELECT {_COLUMNS}, t.slug, t.name FROM invitations i "  # noqa: S608 - constant column list
        "JOIN tenants t ON t.id = i.tenant_id "
        "WHERE i.state = 'pending' AND i.expires_at > $1 AND lower(i.email) = cl_my_email() "
        "ORDER BY i.created_at",
        now,
    )
    return [Offer(_invitation(r), r["slug"], r["name"]) for r in rows]


async def set_token(
    tx: Tx, invitation_id: uuid.UUID, token_hash: bytes, *, expires_at: dt.datetime
) -> None:
    await tx.conn.execute(
        "UPDATE invitations SET token_hash = $2, expires_at = $3 WHERE id = $1",
        invitation_id,
        token_hash,
        expires_at,
    )


async def lock_for_mail(tx: Tx, invitation_id: uuid.UUID) -> Invitation | None:
    """The invitation if it still waits for its e-mail."""
    row = await tx.conn.fetchrow(
        f"SELECT {_COLUMNS} FROM invitations i WHERE i.id = $1 AND i.state = 'pending' "  # noqa: S608 - constant column list
        "AND i.delivery = 'queued' FOR UPDATE",
        invitation_id,
    )
    return _invitation(row) if row else None


async def set_delivery(
    tx: Tx, invitation_id: uuid.UUID, delivery: Delivery, *, token_hash: bytes
) -> None:
    """Record how the e-mail went, unless the invitation was renewed meanwhile (then its
    own job reports)."""
    await tx.conn.execute(
        "UPDATE invitations SET delivery = $2, "
        "mailed_at = CASE WHEN $2 = 'sent' THEN now() ELSE mailed_at END "
        "WHERE id = $1 AND token_hash = $3",
        invitation_id,
        delivery.value,
        token_hash,
    )


async def list_unmailed(
    tx: Tx, *, older_than: dt.datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = await tx.conn.fetch(
        "SELECT id, tenant_id FROM invitations WHERE state = 'pending' AND delivery = 'queued' "
        "AND created_at < $1 ORDER BY created_at LIMIT $2",
        older_than,
        limit,
    )
    return [(r["id"], r["tenant_id"]) for r in rows]
