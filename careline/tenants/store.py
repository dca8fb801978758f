"""SQL for tenants, accounts and memberships."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from careline.db.tx import Role, Tx
from careline.tenants.records import (
    ConversationStart,
    EscalationSettings,
    LoginIdentity,
    Member,
    OrganisationSettings,
    Tenant,
    TenantSettings,
)

_MEMBER_COLUMNS = """
    m.account_id, m.tenant_id, m.role, a.email, m.display_name, m.created_at,
    m.last_seen_at, (m.disabled_at IS NOT NULL OR a.disabled_at IS NOT NULL) AS disabled,
    m.name_key
"""
# Names and last seen come from the membership, never the account: the account is shared
# with the person's other organisations, and nothing of those may show here.


def _member(row: Any) -> Member:
    return Member(
        account_id=row["account_id"],
        tenant_id=row["tenant_id"],
        role=Role(row["role"]),
        email=row["email"],
        display_name=row["display_name"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        disabled=row["disabled"],
        sort_key=row["name_key"],
    )


async def insert_tenant(tx: Tx, *, tenant_id: uuid.UUID, slug: str, name: str) -> None:
    await tx.conn.execute(
        "INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)", tenant_id, slug, name
    )


async def get_tenant(tx: Tx, tenant_id: uuid.UUID) -> Tenant | None:
    row = await tx.conn.fetchrow("SELECT id, slug, name FROM tenants WHERE id = $1", tenant_id)
    return Tenant(row["id"], row["slug"], row["name"]) if row else None


async def get_settings(tx: Tx, tenant_id: uuid.UUID) -> TenantSettings | None:
    row = await tx.conn.fetchrow(
        "SELECT file_mb_per_person_per_day FROM tenants WHERE id = $1", tenant_id
    )
    return TenantSettings(row["file_mb_per_person_per_day"]) if row else None


async def update_settings(
    tx: Tx, tenant_id: uuid.UUID, *, file_mb_per_person_per_day: int | None
) -> TenantSettings | None:
    row = await tx.conn.fetchrow(
        """UPDATE tenants
              SET file_mb_per_person_per_day = coalesce($2, file_mb_per_person_per_day)
            WHERE id = $1
        RETURNING file_mb_per_person_per_day""",
        tenant_id,
        file_mb_per_person_per_day,
    )
    return TenantSettings(row["file_mb_per_person_per_day"]) if row else None


async def get_organisation_settings(tx: Tx, tenant_id: uuid.UUID) -> OrganisationSettings | None:
    row = await tx.conn.fetchrow(
        "SELECT conversation_start, device_storage FROM tenants WHERE id = $1", tenant_id
    )
    return _organisation_settings(row) if row else None


def _organisation_settings(row: Any) -> OrganisationSettings:
    return OrganisationSettings(ConversationStart(row["conversation_start"]), row["device_storage"])


async def update_organisation_settings(
    tx: Tx,
    tenant_id: uuid.UUID,
    *,
    conversation_start: ConversationStart | None,
    device_storage: bool | None,
) -> OrganisationSettings | None:
    row = await tx.conn.fetchrow(
        """UPDATE tenants
              SET conversation_start = coalesce($2, conversation_start),
                  device_storage = coalesce($3, device_storage)
            WHERE id = $1
        RETURNING conversation_start, device_storage""",
        tenant_id,
        conversation_start.value if conversation_start else None,
        device_storage,
    )
    return _organisation_settings(row) if row else None


_ESCALATION_COLUMNS = (
    "escalation_hours, escalation_admin_hours, time_zone, work_start, work_end, work_days"
)


def _escalation(row: Any) -> EscalationSettings:
    def hours(value: Any) -> float | None:
        return float(value) if value is not None else None

    return EscalationSettings(
        hours(row["escalation_hours"]),
        hours(row["escalation_admin_hours"]),
        row["time_zone"],
        row["work_start"],
        row["work_end"],
        tuple(sorted(row["work_days"])),
    )


def _numeric(value: float | None) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


async def get_escalation_settings(tx: Tx, tenant_id: uuid.UUID) -> EscalationSettings | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_ESCALATION_COLUMNS} FROM tenants WHERE id = $1",  # noqa: S608 - constant
        tenant_id,
    )
    return _escalation(row) if row else None


async def set_escalation_settings(
    tx: Tx, tenant_id: uuid.UUID, settings: EscalationSettings
) -> EscalationSettings | None:
    row = await tx.conn.fetchrow(
        f"""UPDATE tenants
              SET escalation_hours = $2, escalation_admin_hours = $3, time_zone = $4,
                  work_start = $5, work_end = $6, work_days = $7
            WHERE id = $1
        RETURNING {_ESCALATION_COLUMNS}""",  # noqa: S608 - constant
        tenant_id,
        _numeric(settings.hours),
        _numeric(settings.admin_hours),
        settings.time_zone,
        settings.work_start,
        settings.work_end,
        list(settings.work_days),
    )
    return _escalation(row) if row else None


async def get_tenant_by_slug(tx: Tx, slug: str) -> Tenant | None:
    row = await tx.conn.fetchrow("SELECT id, slug, name FROM tenants WHERE slug = $1", slug)
    return Tenant(row["id"], row["slug"], row["name"]) if row else None


async def get_account_id_by_email(tx: Tx, email: str) -> uuid.UUID | None:
    value: uuid.UUID | None = await tx.conn.fetchval("SELECT cl_account_id_by_email($1)", email)
    return value


async def get_login_identity(tx: Tx, email: str) -> LoginIdentity | None:
    row = await tx.conn.fetchrow(
        "SELECT id, password_hash, disabled_at IS NOT NULL AS disabled FROM accounts "
        "WHERE lower(email) = lower($1)",
        email,
    )
    return LoginIdentity(row["id"], row["password_hash"], row["disabled"]) if row else None


async def get_password_hash(tx: Tx, account_id: uuid.UUID) -> str | None:
    value: str | None = await tx.conn.fetchval(
        "SELECT password_hash FROM accounts WHERE id = $1", account_id
    )
    return value


async def insert_account(
    tx: Tx, *, account_id: uuid.UUID, email: str, display_name: str, password_hash: str
) -> None:
    await tx.conn.execute(
        "INSERT INTO accounts (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)",
        account_id,
        email,
        display_name,
        password_hash,
    )


async def update_password_hash(tx: Tx, account_id: uuid.UUID, password_hash: str) -> None:
    await tx.conn.execute(
        "UPDATE accounts SET password_hash = $2 WHERE id = $1", account_id, password_hash
    )


async def replace_password_hash(
    tx: Tx, account_id: uuid.UUID, *, was: str | None, new: str
) -> bool:
    """Set the hash only if it is still `was`; False when it changed meanwhile."""
    status = await tx.conn.execute(
        "UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        account_id,
        was,
        new,
    )
    return bool(status == "UPDATE 1")


async def update_member_name(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, display_name: str
) -> None:
    await tx.conn.execute(
        "UPDATE memberships SET display_name = $3 WHERE tenant_id = $1 AND account_id = $2",
        tenant_id,
        account_id,
        display_name,
    )


async def get_keep_archived(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> bool:
    found: bool | None = await tx.conn.fetchval(
        "SELECT keep_archived FROM memberships WHERE tenant_id = $1 AND account_id = $2",
        tenant_id,
        account_id,
    )
    return bool(found)


async def update_keep_archived(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, keep: bool
) -> None:
    await tx.conn.execute(
        "UPDATE memberships SET keep_archived = $3 WHERE tenant_id = $1 AND account_id = $2",
        tenant_id,
        account_id,
        keep,
    )


async def touch_last_seen(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, when: dt.datetime
) -> None:
    await tx.conn.execute(
        "UPDATE memberships SET last_seen_at = $3 WHERE tenant_id = $1 AND account_id = $2",
        tenant_id,
        account_id,
        when,
    )


async def insert_membership(
    tx: Tx, *, tenant_id: uuid.UUID, account_id: uuid.UUID, role: Role, display_name: str
) -> bool:
    status = await tx.conn.execute(
        "INSERT INTO memberships (tenant_id, account_id, role, display_name) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        tenant_id,
        account_id,
        role.value,
        display_name,
    )
    return bool(status == "INSERT 0 1")


async def update_membership(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, *, role: Role | None, disabled: bool | None
) -> bool:
    status = await tx.conn.execute(
        """UPDATE memberships SET role = coalesce($3, role),
               disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at
                                  WHEN $4 THEN coalesce(disabled_at, now()) ELSE NULL END
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id,
        account_id,
        role.value if role else None,
        disabled,
    )
    return bool(status == "UPDATE 1")


async def get_member(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> Member | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_MEMBER_COLUMNS} FROM memberships m JOIN accounts a ON a.id = m.account_id "  # noqa: S608 - constant column list
        "WHERE m.tenant_id = $1 AND m.account_id = $2",
        tenant_id,
        account_id,
    )
    return _member(row) if row else None


async def get_member_by_email(tx: Tx, tenant_id: uuid.UUID, email: str) -> Member | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_MEMBER_COLUMNS} FROM memberships m JOIN accounts a ON a.id = m.account_id "  # noqa: S608 - constant column list
        "WHERE m.tenant_id = $1 AND lower(a.email) = lower($2)",
        tenant_id,
        email,
    )
    return _member(row) if row else None


async def list_members(
    tx: Tx,
    tenant_id: uuid.UUID,
    *,
    role: Role | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[Member]:
    """A page of the member list, by name. One statement per shape (with or without a
    role, a cursor): a generic plan cannot make an index condition of "$n IS NULL OR
    ...". The cursor compares the stored name_key, since under RLS only leakproof
    conditions (not lower()) become index conditions (migration 0008). So every page
    reads about a page of memberships_by_name (or _by_role_name), wherever it starts."""
    args: list[Any] = [tenant_id]
    where = "m.tenant_id = $1"
    if role:
        args.append(role.value)
        where += f" AND m.role = ${len(args)}"
    if after:
        args += after
        where += f" AND (m.name_key, m.account_id) > (${len(args) - 1}, ${len(args)}::uuid)"
    args.append(limit)
    if role:
        # One large organisation among many small ones: the planner takes the page of one
        # role for a handful of rows and sorts all it finds after the cursor (page two of
        # 5,894 clients read 5,796 with 1,500 organisations beside it). Without a sort,
        # only memberships_by_role_name's own order is left: each page reads a page.
        await tx.conn.execute("SET LOCAL enable_sort = off")
    rows = await tx.conn.fetch(
        f"SELECT {_MEMBER_COLUMNS} FROM memberships m JOIN accounts a ON a.id = m.account_id "  # noqa: S608 - constant fragments
        f"WHERE {where} ORDER BY m.name_key, m.account_id LIMIT ${len(args)}",
        *args,
    )
    if role:
        await tx.conn.execute("SET LOCAL enable_sort = on")
    return [_member(r) for r in rows]


async def list_members_by_ids(
    tx: Tx, tenant_id: uuid.UUID, account_ids: list[uuid.UUID]
) -> list[Member]:
    rows = await tx.conn.fetch(
        f"SELECT {_MEMBER_COLUMNS} FROM memberships m JOIN accounts a ON a.id = m.account_id "  # noqa: S608 - constant column list
        "WHERE m.tenant_id = $1 AND m.account_id = ANY($2::uuid[])",
        tenant_id,
        account_ids,
    )
    return [_member(r) for r in rows]


async def list_active_memberships(tx: Tx, account_id: uuid.UUID) -> list[tuple[Tenant, Role]]:
    rows = await tx.conn.fetch(
        "SELECT t.id, t.slug, t.name, m.role FROM memberships m "
        "JOIN tenants t ON t.id = m.tenant_id "
        "WHERE m.account_id = $1 AND m.disabled_at IS NULL ORDER BY t.name",
        account_id,
    )
    return [(Tenant(r["id"], r["slug"], r["name"]), Role(r["role"])) for r in rows]


async def count_active_admins(tx: Tx, tenant_id: uuid.UUID) -> int:
    value: int = await tx.conn.fetchval(
        "SELECT count(*) FROM memberships WHERE tenant_id = $1 AND role = 'admin' "
        "AND disabled_at IS NULL",
        tenant_id,
    )
    return value


async def list_tenant_ids(tx: Tx) -> list[uuid.UUID]:
    rows = await tx.conn.fetch("SELECT id FROM tenants ORDER BY id")
    return [row["id"] for row in rows]
