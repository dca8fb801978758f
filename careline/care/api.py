"""HTTP: care relationships and guardian links (admin), and a client's care team."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Response

from careline.auth.api import CurrentActor
from careline.care import service as care_service
from careline.care.schemas import (
    GuardianLinkPage,
    GuardianLinkRead,
    GuardianLinkWrite,
    RelationshipKey,
    RelationshipPage,
    RelationshipRead,
    RelationshipWrite,
)
from careline.conversations import service as conversation_service
from careline.db.tx import transaction
from careline.kit import limits
from careline.kit.pagination import clamp_limit, decode_id_cursor, encode_cursor
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1", tags=["care"], responses=ERRORS)


@router.get("/care-relationships", response_model=RelationshipPage)
async def list_relationships(
    actor: CurrentActor,
    client_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Care teams you may see: all for staff; your own (or your clients') for clients and
    guardians. By client, then staff member; `next_cursor` continues."""
    after = decode_id_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        found = await care_service.list_relationships(
            tx, client_id=client_id, staff_id=staff_id, after=after, limit=size
        )
    last = found[-1] if len(found) == size else None
    return {
        "items": [
            {"client_id": r.client_id, "staff_id": r.staff_id, "is_primary": r.is_primary}
            for r in found
        ],
        "next_cursor": encode_cursor([str(last.client_id), str(last.staff_id)]) if last else None,
    }


@router.put("/admin/care-relationships", response_model=RelationshipRead)
async def set_relationship(body: RelationshipWrite, actor: CurrentActor) -> dict[str, Any]:
    """Admin: add a staff member to a client's care team, or change whether they are
    the primary (setting a primary clears the previous one)."""
    async with transaction(actor) as tx:
        r = await care_service.do_set_relationship(
            tx, client_id=body.client_id, staff_id=body.staff_id, primary=body.is_primary
        )
    return {"client_id": r.client_id, "staff_id": r.staff_id, "is_primary": r.is_primary}


@router.post("/admin/care-relationships/delete", status_code=204)
async def remove_relationship(body: RelationshipKey, actor: CurrentActor) -> Response:
    """Admin: take a staff member out of a client's care team."""
    async with transaction(actor) as tx:
        await care_service.do_remove_relationship(
            tx, client_id=body.client_id, staff_id=body.staff_id
        )
    return Response(status_code=204)


@router.get("/guardian-links", response_model=GuardianLinkPage)
async def list_guardian_links(
    actor: CurrentActor,
    guardian_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Guardian links you may see: all for staff; your own for clients and guardians.
    By guardian, then client; `next_cursor` continues."""
    after = decode_id_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        found = await care_service.list_guardian_links(
            tx, guardian_id=guardian_id, client_id=client_id, after=after, limit=size
        )
    last = found[-1] if len(found) == size else None
    return {
        "items": [{"guardian_id": g.guardian_id, "client_id": g.client_id} for g in found],
        "next_cursor": encode_cursor([str(last.guardian_id), str(last.client_id)])
        if last
        else None,
    }


@router.put("/admin/guardian-links", response_model=GuardianLinkRead)
async def link_guardian(body: GuardianLinkWrite, actor: CurrentActor) -> dict[str, Any]:
    """Admin: let a guardian speak for a client; they join the client's conversations."""
    async with transaction(actor) as tx:
        link = await care_service.do_link_guardian(
            tx, guardian_id=body.guardian_id, client_id=body.client_id
        )
        await conversation_service.internal_add_guardian(
            tx, guardian_id=body.guardian_id, client_id=body.client_id
        )
    return {"guardian_id": link.guardian_id, "client_id": link.client_id}


@router.post("/admin/guardian-links/delete", status_code=204)
async def unlink_guardian(body: GuardianLinkWrite, actor: CurrentActor) -> Response:
    """Admin: end a guardian link; the guardian leaves the client's conversations at once."""
    async with transaction(actor) as tx:
        await care_service.do_unlink_guardian(
            tx, guardian_id=body.guardian_id, client_id=body.client_id
        )
        await conversation_service.internal_remove_guardian(
            tx, guardian_id=body.guardian_id, client_id=body.client_id
        )
    return Response(status_code=204)
