"""Helpers of the break-glass tests: a second admin, and reading what was recorded."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from careline.db.tx import Actor, Role, transaction
from careline.tenants import service as tenant_service
from tests.support.bulk import owner
from tests.support.server import RunningServer
from tests.support.world import Persona, World, sign_in

BASE = "/api/v1/admin/conversations"


async def second_admin(server: RunningServer, world: World) -> Persona:
    email = f"ann@{world.slug}.test"
    async with transaction(Actor.system(world.tenant_id)) as tx:
        member, _ = await tenant_service.do_add_member(
            tx,
            tenant_id=world.tenant_id,
            email=email,
            display_name="Ann Admin",
            role=Role.ADMIN,
            password="correct horse battery staple",
        )
    ann = Persona("ann", "Ann Admin", Role.ADMIN, email, member.account_id, world.tenant_id)
    ann.token = await sign_in(server.base_url, email)
    world.people["ann"] = ann
    return ann


async def intervene(
    http: httpx.AsyncClient, world: World, path: str, reason: str | None = "safeguarding concern"
) -> httpx.Response:
    return await http.post(f"{BASE}/{path}", json={"reason": reason}, headers=world["admin"].auth)


async def audit_rows(server: RunningServer, conversation_id: str) -> list[dict[str, Any]]:
    conn = await owner(server)
    try:
        rows = await conn.fetch(
            "SELECT action, actor_account_id, actor_role, subject_account_id, object_id, detail,"
            " reason_ct FROM audit_events WHERE conversation_id = $1 ORDER BY at",
            uuid.UUID(conversation_id),
        )
    finally:
        await conn.close()
    return [dict(r) for r in rows]


async def event_types(http: httpx.AsyncClient, who: Persona, conversation_id: str) -> list[str]:
    response = await http.get(f"/api/v1/conversations/{conversation_id}/events", headers=who.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return [e.get("op") or e.get("type") for e in items]


async def send(
    http: httpx.AsyncClient, who: Persona, conversation_id: str, text: str = "hello"
) -> httpx.Response:
    return await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text},
        headers=who.auth,
    )
