"""HTTP: presence of people you share conversations with."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from careline.auth.api import CurrentActor
from careline.db.tx import Actor, transaction
from careline.tenants import service as tenant_service
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1", tags=["presence"], responses=ERRORS)


class PresenceRead(BaseModel):
    presence: dict[str, str]


@router.get("/presence", response_model=PresenceRead)
async def get_presence(
    actor: CurrentActor,
    request: Request,
    account_id: Annotated[list[uuid.UUID], Query(max_length=200)],
) -> dict[str, dict[str, str]]:
    """online / away / offline for each account you may see (others are left out)."""
    async with transaction(actor, readonly=True) as tx:
        visible = await tenant_service.members_by_ids(tx, list(set(account_id)))
    return {"presence": request.app.state.hub.presence_of(actor.tenant, set(visible))}


async def write_last_seen(tenant_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """Called when a member's last socket (in that organisation) on this node closes."""
    async with transaction(Actor.system(tenant_id)) as tx:
        await tenant_service.internal_touch_last_seen(tx, account_id)
