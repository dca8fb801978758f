"""Socket ops of the dashboard (docs/protocol.md#monitoring): `monitor.subscribe` to a
scope, answered with the current snapshot and followed by `monitor.updated` every
`monitor_interval_seconds`; `monitor.unsubscribe`. One scope per socket: subscribing
again replaces it."""

from __future__ import annotations

from typing import Any

from careline.db.tx import transaction
from careline.monitoring import live
from careline.monitoring import service as monitor_service
from careline.realtime import protocol
from careline.realtime.protocol import OpArgs, Session, op


class SubscribeArgs(OpArgs):
    scope: monitor_service.Scope = "tenant"


class NoArgs(OpArgs):
    pass


@op("monitor.subscribe", SubscribeArgs)
async def monitor_subscribe(session: Session, args: SubscribeArgs) -> dict[str, Any]:
    """`tenant`: the organisation's admins; `instance`: operators. Refused with
    `admin_only` / `operator_only` (403); what the socket watched before stays."""
    async with transaction(session.actor, readonly=True) as tx:
        tenant_id = await monitor_service.check_scope(tx, args.scope)
        operator = await monitor_service.is_operator(tx)
    snapshot = await live.current().subscribe(session, (args.scope, tenant_id))
    # `operator`: whether this person may switch to the instance (the page's scope switch).
    return {"scope": args.scope, "operator": operator, "snapshot": snapshot}


@op("monitor.unsubscribe", NoArgs)
async def monitor_unsubscribe(session: Session, args: NoArgs) -> dict[str, Any]:
    return {"subscribed": live.current().unsubscribe(session)}


def _forget(session: Session) -> None:
    live.current().unsubscribe(session)


protocol.on_close(_forget)
