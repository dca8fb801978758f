"""HTTP: careline's push key, and subscribing this browser to push (or not)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from careline import config
from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.kit.errors import Forbidden
from careline.push import service as push_service
from careline.push.schemas import (
    ServerKeyRead,
    SubscriptionCreate,
    SubscriptionDelete,
    SubscriptionListed,
    SubscriptionRead,
)
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1/push", tags=["push"], responses=ERRORS)


def _same_origin(request: Request) -> None:
    # A browser always sends Origin on a cross-site POST: a page elsewhere must not
    # subscribe (or unsubscribe) a careline browser, whatever its cookies.
    sent = request.headers.get("origin")
    if sent is not None and sent not in config.current().allowed_origins:
        raise Forbidden("this request comes from another site", code="foreign_origin")


@router.get("/key", response_model=ServerKeyRead)
async def get_push_key(actor: CurrentActor) -> dict[str, Any]:
    """careline's VAPID public key (RFC 8292), to subscribe with as the
    applicationServerKey. The same for every organisation; it never changes by itself."""
    del actor
    return {"key": push_service.application_server_key()}


@router.get("/subscriptions", response_model=list[SubscriptionListed])
async def list_push_subscriptions(actor: CurrentActor) -> list[dict[str, Any]]:
    """Your browsers that receive this organisation's pushes (a browser finds out
    whether it is one by its own endpoint)."""
    async with transaction(actor, readonly=True) as tx:
        rows = await push_service.list_own_subscriptions(tx)
    return [
        {
            "id": str(r["id"]),
            "endpoint": r["endpoint"],
            "created_at": r["created_at"],
            "last_sent_at": r["last_sent_at"],
        }
        for r in rows
    ]


@router.post("/subscriptions", status_code=201, response_model=SubscriptionRead)
async def create_push_subscription(
    body: SubscriptionCreate, request: Request, actor: CurrentActor
) -> dict[str, Any]:
    """Send push notifications of this organisation to this browser, for as long as
    this session lasts (signing out ends it). Subscribing the same endpoint again
    replaces it. 422 `push_endpoint_insecure` (not https), `push_endpoint_invalid`,
    `push_key_invalid`, `push_auth_invalid`; 403 `foreign_origin`; 409
    `push_subscriptions_full`."""
    _same_origin(request)
    target = push_service.check_subscription(body.endpoint, body.keys.p256dh, body.keys.auth)
    async with transaction(actor) as tx:
        subscription_id = await push_service.do_subscribe(tx, target)
    return {"id": str(subscription_id)}


@router.delete("/subscriptions", status_code=204)
async def delete_push_subscription(
    body: SubscriptionDelete, request: Request, actor: CurrentActor
) -> Response:
    """Stop push notifications to this browser (by its endpoint) in this organisation.
    404 `push_subscription_not_found`; 403 `foreign_origin`."""
    _same_origin(request)
    async with transaction(actor) as tx:
        await push_service.do_unsubscribe(tx, body.endpoint)
    return Response(status_code=204)
