"""The unit of work: one transaction with the actor's RLS settings, events published only
after COMMIT.

Transports open transactions (`async with transaction(actor) as tx`); services take `tx`
and never commit. Events a service emits reach sockets only once the data they describe
is durable, so no client ever sees something that then rolls back.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from careline.db.outage import is_outage, reachability
from careline.db.pool import send_with_next_begin
from careline.kit.errors import AppError, DatabaseUnavailable
from careline.kit.events import Event

log = logging.getLogger(__name__)


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    CLIENT = "client"
    GUARDIAN = "guardian"
    SYSTEM = "system"

    @property
    def is_staff(self) -> bool:
        return self in (Role.ADMIN, Role.STAFF)

    @property
    def is_client_side(self) -> bool:
        return self in (Role.CLIENT, Role.GUARDIAN)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting. The same values go into the RLS settings of every transaction."""

    account_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    role: Role
    session_id: uuid.UUID | None = None

    @classmethod
    def system(cls, tenant_id: uuid.UUID | None = None) -> Actor:
        return cls(account_id=None, tenant_id=tenant_id, role=Role.SYSTEM)

    @property
    def account(self) -> uuid.UUID:
        assert self.account_id is not None, "a system actor has no account"
        return self.account_id

    @property
    def tenant(self) -> uuid.UUID:
        assert self.tenant_id is not None, "actor is not scoped to a tenant"
        return self.tenant_id


Publisher = Callable[[list[Event]], Awaitable[None]]


@dataclass(slots=True)
class Tx:
    conn: asyncpg.Connection
    actor: Actor
    events: list[Event] = field(default_factory=list)
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Audit entries of this transaction's accesses, written by one statement just before
    # COMMIT (careline/audit/service.py): an access that rolls back leaves none.
    audits: list[Any] = field(default_factory=list)
    # A read-only transaction cannot write its audit: what audits must not be opened so.
    readonly: bool = False

    def emit(self, event: Event) -> None:
        """Publish `event` once this transaction has committed."""
        self.events.append(event)

    def after_commit(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` once this transaction has committed (e.g. deferring a job for the
        rows it wrote). A step that fails is logged and forgotten: what it was for must
        be found again by a sweep, since a crash right after COMMIT would lose it too."""
        self.after.append(step)

    @asynccontextmanager
    async def as_system(self) -> AsyncIterator[None]:
        """Act as the system, within the actor's tenant, for an `internal_*` step of a
        change the actor is allowed to make (e.g. an admin linking a guardian adds them to
        conversations the admin is not in)."""
        await self.conn.execute(_SET_ROLE, Role.SYSTEM.value)
        try:
            yield
        finally:
            await self.conn.execute(_SET_ROLE, self.actor.role.value)


AuditFlush = Callable[["Tx"], Awaitable[None]]


class _State:
    pool: asyncpg.Pool | None = None
    publish: Publisher | None = None
    flush_audit: AuditFlush | None = None


_state = _State()


def configure(pool: asyncpg.Pool | None, publish: Publisher | None) -> None:
    _state.pool = pool
    _state.publish = publish


def configure_audit(flush: AuditFlush | None) -> None:
    """The step that writes a transaction's audit entries inside it, before COMMIT."""
    _state.flush_audit = flush


def pool() -> asyncpg.Pool:
    if _state.pool is None:
        raise RuntimeError("database not started")
    return _state.pool


_SET_ROLE = "SELECT set_config('careline.role', $1, true)"


def _uuid_literal(value: uuid.UUID | None) -> str:
    return str(uuid.UUID(str(value))) if value is not None else ""


def _set_actor(actor: Actor) -> str:
    """The statement that says who is acting, sent with BEGIN in one round trip.

    That message is a simple query, which has no parameters, so the values are literals;
    only values that cannot carry SQL reach them: UUIDs as the uuid module prints them
    (hex digits and dashes, after a trip through uuid.UUID) and a Role's value.
    """
    role = Role(actor.role).value
    assert role.isalpha(), role
    return (
        "SELECT set_config('careline.account_id', "
        f"'{_uuid_literal(actor.account_id)}', true), "
        f"set_config('careline.tenant_id', '{_uuid_literal(actor.tenant_id)}', true), "
        f"set_config('careline.role', '{role}', true);"
    )


def _is_closed(conn: Any) -> bool:
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True  # the pool let go of a connection that went away under it


@asynccontextmanager
async def _connection() -> AsyncIterator[Any]:
    """A pooled connection, and the one place a lost database becomes
    DatabaseUnavailable (503, retryable). A failure at COMMIT lands here too: its fate is
    unknown, so nothing is acknowledged and the client retries (sends are idempotent by
    client_msg_id)."""
    acquired = False
    try:
        async with pool().acquire() as conn:
            acquired = True
            try:
                yield conn
            except AppError:
                raise
            except Exception as exc:
                if is_outage(exc, connecting=False, connection_closed=_is_closed(conn)):
                    raise DatabaseUnavailable() from exc
                raise
    except DatabaseUnavailable as exc:
        reachability.lost(exc.__cause__ or exc)
        raise
    except AppError:
        raise
    except Exception as exc:
        if is_outage(exc, connecting=not acquired, connection_closed=False):
            reachability.lost(exc)
            raise DatabaseUnavailable() from exc
        raise
    reachability.answered()


@asynccontextmanager
async def transaction(actor: Actor, *, readonly: bool = False) -> AsyncIterator[Tx]:
    async with _connection() as conn:
        send_with_next_begin(conn, _set_actor(actor))
        async with conn.transaction(readonly=readonly):
            tx = Tx(conn=conn, actor=actor, readonly=readonly)
            yield tx
            if tx.audits and _state.flush_audit is not None:
                await _state.flush_audit(tx)
    if tx.events and _state.publish is not None:
        committed_at = time.monotonic()  # delivery latency counts from here (monitoring)
        await _state.publish([dataclasses.replace(e, committed_at=committed_at) for e in tx.events])
    for step in tx.after:
        try:
            await step()
        except Exception:  # committed already: the sweep that owns the work finds it
            log.exception("a step after commit failed")


async def fetch_value(sql: str, *args: Any) -> Any:
    """A one-off read outside any actor (health checks, catalog facts)."""
    async with _connection() as conn:
        return await conn.fetchval(sql, *args)
