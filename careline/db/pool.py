"""The only module that opens PostgreSQL connections."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

APP_ROLE = "careline_app"


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What the pool does to a connection it takes back: nothing beyond asyncpg's own
    rollback of a transaction left open. asyncpg's default sends one more round trip
    (RESET ALL, UNLISTEN *, CLOSE ALL, advisory unlocks) after every transaction, and
    tx.py publishes only after the release. careline leaves nothing to reset: the actor
    is set with set_config(..., true), which ends with the transaction, and it takes
    no session locks, cursors or LISTENs."""


async def connect_owner(dsn: str) -> Any:
    """A connection as the schema owner: migrations and bootstrap only."""
    return await asyncpg.connect(dsn)


async def create_app_pool(dsn: str, *, size: int) -> asyncpg.Pool:
    """The pool every request uses. Refuses to run as a role that could skip RLS."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min(2, size),
        max_size=size,
        init=_init_connection,
        # Row-level security is evaluated per execution, so cached plans stay correct
        # whoever is acting.
        statement_cache_size=512,
        reset=_keep_session,
    )
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        )
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        )
    if row["rolsuper"] or row["rolbypassrls"] or owned:
        await pool.close()
        raise RuntimeError(
            f"careline must connect as a role without SUPERUSER or BYPASSRLS that owns no "
            f"table; {row['name']!r} does not qualify (see docs/deploy.md)"
        )
    return pool
