"""Who cares for whom, and who speaks for whom.

Most real clients have no primary staff recorded, so nothing in careline depends on one
being set. Errors: NotFound for people outside the organisation, InvalidInput when a
person has the wrong role for the link.
"""

from __future__ import annotations

import uuid

from careline.audit.changes import record_change
from careline.care import store
from careline.care.records import CareRelationship, GuardianLink
from careline.db.tx import Role, Tx
from careline.kit.errors import InvalidInput, NotFound
from careline.tenants import service as tenant_service


async def _require_role(tx: Tx, account_id: uuid.UUID, roles: tuple[Role, ...], what: str) -> None:
    member = await tenant_service.get_member(tx, account_id)
    if member.role not in roles:
        raise InvalidInput(f"{account_id} is not a {what}", code="wrong_role")


async def do_set_relationship(
    tx: Tx, *, client_id: uuid.UUID, staff_id: uuid.UUID, primary: bool
) -> CareRelationship:
    """Admin: put a staff member in a client's care team (optionally as primary, which
    clears any other primary)."""
    tenant_service.require_admin(tx)
    await _require_role(tx, client_id, (Role.CLIENT,), "client")
    await _require_role(tx, staff_id, (Role.STAFF, Role.ADMIN), "staff member")
    await store.upsert_relationship(
        tx, tx.actor.tenant, client_id=client_id, staff_id=staff_id, primary=primary
    )
    # About the client; the staff member is the object of the change.
    await record_change(
        tx,
        "care.assigned",
        subject_account_id=client_id,
        object_id=staff_id,
        detail={"primary": primary},
    )
    return CareRelationship(client_id, staff_id, primary)


async def do_remove_relationship(tx: Tx, *, client_id: uuid.UUID, staff_id: uuid.UUID) -> None:
    tenant_service.require_admin(tx)
    if not await store.delete_relationship(
        tx, tx.actor.tenant, client_id=client_id, staff_id=staff_id
    ):
        raise NotFound("no such care relationship")
    await record_change(tx, "care.unassigned", subject_account_id=client_id, object_id=staff_id)


async def list_relationships(
    tx: Tx,
    *,
    client_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    after: tuple[uuid.UUID, uuid.UUID] | None,
    limit: int,
) -> list[CareRelationship]:
    """A page of the care teams the actor may see (RLS decides), by client then staff
    member; `after` is the last (client_id, staff_id) of the page before."""
    return await store.list_relationships(
        tx, tx.actor.tenant, client_id=client_id, staff_id=staff_id, after=after, limit=limit
    )


async def care_team(tx: Tx, client_id: uuid.UUID) -> list[uuid.UUID]:
    """Every staff member in one client's care team (one person's links: not paged)."""
    found = await store.list_relationships(tx, tx.actor.tenant, client_id=client_id, staff_id=None)
    return [r.staff_id for r in found]


async def do_link_guardian(tx: Tx, *, guardian_id: uuid.UUID, client_id: uuid.UUID) -> GuardianLink:
    tenant_service.require_admin(tx)
    await _require_role(tx, guardian_id, (Role.GUARDIAN,), "guardian")
    await _require_role(tx, client_id, (Role.CLIENT,), "client")
    await store.insert_guardian_link(
        tx, tx.actor.tenant, guardian_id=guardian_id, client_id=client_id
    )
    await record_change(tx, "guardian.linked", subject_account_id=client_id, object_id=guardian_id)
    return GuardianLink(guardian_id, client_id)


async def do_unlink_guardian(tx: Tx, *, guardian_id: uuid.UUID, client_id: uuid.UUID) -> None:
    tenant_service.require_admin(tx)
    if not await store.delete_guardian_link(
        tx, tx.actor.tenant, guardian_id=guardian_id, client_id=client_id
    ):
        raise NotFound("no such guardian link")
    await record_change(
        tx, "guardian.unlinked", subject_account_id=client_id, object_id=guardian_id
    )


async def list_guardian_links(
    tx: Tx,
    *,
    guardian_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    after: tuple[uuid.UUID, uuid.UUID] | None,
    limit: int,
) -> list[GuardianLink]:
    """A page of the guardian links the actor may see (RLS decides), by guardian then
    client; `after` is the last (guardian_id, client_id) of the page before."""
    return await store.list_guardian_links(
        tx, tx.actor.tenant, guardian_id=guardian_id, client_id=client_id, after=after, limit=limit
    )


# One person's links, for careline's own checks: all of them, not paged.
async def guardians_of(tx: Tx, client_id: uuid.UUID) -> list[uuid.UUID]:
    found = await store.list_guardian_links(
        tx, tx.actor.tenant, guardian_id=None, client_id=client_id
    )
    return [g.guardian_id for g in found]


async def clients_of(tx: Tx, guardian_id: uuid.UUID) -> list[uuid.UUID]:
    found = await store.list_guardian_links(
        tx, tx.actor.tenant, guardian_id=guardian_id, client_id=None
    )
    return [g.client_id for g in found]
