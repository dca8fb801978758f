"""Who may watch what: an organisation's admins their organisation, operators the whole
instance; and making or unmaking an operator (docs/operations.md#dashboard).

Raises Forbidden `admin_only` (the organisation's dashboard, for anyone but its admins)
and Forbidden `operator_only` (the instance's, for anyone not an operator); NotFound
`no_such_account` when an operator to add or remove has no account.
"""

from __future__ import annotations

import uuid
from typing import Literal

from careline.db.tx import Actor, Role, Tx
from careline.kit.errors import Forbidden, NotFound
from careline.monitoring import store
from careline.tenants import service as tenant_service

Scope = Literal["tenant", "instance"]


async def is_operator(tx: Tx) -> bool:
    """Whether the acting person is an operator (RLS shows each account its own row)."""
    if tx.actor.account_id is None:
        return False
    return await store.is_operator(tx, tx.actor.account_id)


async def check_scope(tx: Tx, scope: Scope) -> uuid.UUID | None:
    """The tenant the acting person may watch in `scope` (None: the whole instance)."""
    if scope == "instance":
        if not await is_operator(tx):
            raise Forbidden("only an operator can watch the whole instance", code="operator_only")
        return None
    if tx.actor.role is not Role.ADMIN:
        raise Forbidden("only an organisation admin can do this", code="admin_only")
    return tx.actor.tenant


async def still_allowed(tx: Tx, scope: Scope) -> bool:
    """Whether the acting person may still watch `scope`, as things are now: a socket's
    actor keeps the role it signed in with, so the membership is read again (a demoted
    admin, a removed operator)."""
    if scope == "instance":
        return await is_operator(tx)
    try:
        member = await tenant_service.get_member(tx, tx.actor.account)
    except NotFound:
        return False
    return member.role is Role.ADMIN and not member.disabled


def system_actor(tenant_id: uuid.UUID | None) -> Actor:
    """The dashboard counts every message of its scope, not only those its viewer takes
    part in: as careline itself, within the one organisation (or all, for operators)."""
    return Actor.system(tenant_id)


async def do_set_operator(tx: Tx, email: str, *, operator: bool) -> bool:
    """Make (or unmake) the account with `email` an operator; True when that changed.
    Only careline itself (Actor.system() with no tenant) may: RLS refuses anyone else."""
    account_id = await tenant_service.internal_account_id_by_email(tx, email)
    if account_id is None:
        raise NotFound("no account has that e-mail address", code="no_such_account")
    if operator:
        return await store.insert_operator(tx, account_id)
    return await store.delete_operator(tx, account_id)


async def list_operators(tx: Tx) -> list[str]:
    return await store.list_operators(tx)
