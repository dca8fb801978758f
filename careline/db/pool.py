"""The only module that opens PostgreSQL connections."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

APP_ROLE = "careline_app"


class Connection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg has no type hints
    """asyncpg's connection, and one addition: a statement can go out with the next
    BEGIN, in the same round trip. tx.py says who is acting that way, so a transaction
    starts in one round trip instead of two."""

    _with_begin = ""

    def send_with_next_begin(self, sql: str) -> None:
        self._with_begin = sql

    async def execute(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 - asyncpg's own signature
    ) -> str:
        # asyncpg's Transaction.start() sends "BEGIN ...;" without arguments, in the
        # simple-query protocol, where one message may carry several statements.
        if self._with_begin and not args and query.startswith("BEGIN"):
            query, self._with_begin = f"{query} {self._with_begin}", ""
        status: str = await super().execute(query, *args, timeout=timeout)
        return status


def send_with_next_begin(conn: Any, sql: str) -> None:
    """Queue `sql` to go out with the BEGIN of `conn`'s next transaction (`conn` is a
    pool's proxy, which hands the call to its Connection)."""
    conn.send_with_next_begin(sql)


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
        connection_class=Connection,
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
