"""HTTP: presence of people you share conversations with."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from careline.auth.api import CurrentActor
from careline.db.tx import Actor, transaction
from careline.realtime.presence import OFFLINE
from careline.tenants import service as tenant_service
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1", tags=["presence"], responses=ERRORS)


class PresenceRead(BaseModel):
    presence: dict[str, str]
    # For the offline ones only: when their last device went (ISO 8601, UTC), where known.
    last_seen: dict[str, dt.datetime]


@router.get("/presence", response_model=PresenceRead)
async def get_presence(
    actor: CurrentActor,
    request: Request,
    account_id: Annotated[list[uuid.UUID], Query(max_length=200)],
) -> dict[str, Any]:
    """online / away / offline for each account you may see (others are left out), and
    when each offline one was last connected: what this node saw, else the membership's
    stored last seen (written when their last socket closes)."""
    async with transaction(actor, readonly=True) as tx:
        visible = await tenant_service.members_by_ids(tx, list(set(account_id)))
    hub = request.app.state.hub
    presence: dict[str, str] = hub.presence_of(actor.tenant, set(visible))
    here: dict[uuid.UUID, dt.datetime] = hub.last_seen_of(actor.tenant, set(visible))
    last_seen: dict[str, dt.datetime] = {}
    for account, member in visible.items():
        if presence[str(account)] != OFFLINE:
            continue
        known = [t for t in (here.get(account), member.last_seen_at) if t is not None]
        if known:
            last_seen[str(account)] = max(known)
    return {"presence": presence, "last_seen": last_seen}


async def write_last_seen(tenant_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """Called when a member's last socket (in that organisation) on this node closes."""
    async with transaction(Actor.system(tenant_id)) as tx:
        await tenant_service.internal_touch_last_seen(tx, account_id)
