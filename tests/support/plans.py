"""What a statement costs as careline runs it: the store's own SQL, planned generic (as a
prepared statement is after five runs) and run under the actor's RLS, measured from
EXPLAIN (ANALYZE, BUFFERS). Buffers and rows, never the clock."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from careline.db.tx import Actor, Tx
from tests.support.server import RunningServer

_names = itertools.count()


@dataclass
class Plan:
    """One statement's plan as EXPLAIN (FORMAT JSON) gave it."""

    sql: str
    root: dict[str, Any]

    @property
    def buffers(self) -> int:
        """Shared blocks the run touched (hit or read), the whole tree included."""
        return int(self.root["Shared Hit Blocks"]) + int(self.root["Shared Read Blocks"])

    def nodes(self, node: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        node = node or self.root
        found = [node]
        for child in node.get("Plans", []):
            found += self.nodes(child)
        return found

    def scans_of(self, relation: str, alias: str | None = None) -> list[dict[str, Any]]:
        return [
            n
            for n in self.nodes()
            if n.get("Relation Name") == relation and alias in (None, n.get("Alias"))
        ]

    def rows_read(self, relation: str, alias: str | None = None) -> int:
        """Rows the scans of `relation` (as `alias`) produced or threw away by a filter
        or a recheck, per loop times loops: what the statement read of that table."""
        return sum(
            round(
                (
                    n["Actual Rows"]
                    + n.get("Rows Removed by Filter", 0)
                    + n.get("Rows Removed by Index Recheck", 0)
                )
                * n["Actual Loops"]
            )
            for n in self.scans_of(relation, alias)
        )

    def index_names(self) -> set[str]:
        return {n["Index Name"] for n in self.nodes() if "Index Name" in n}


def _literal(value: Any) -> str:
    """A value as SQL text for EXECUTE's arguments (EXPLAIN takes no parameters). Test
    values only: ids, numbers, times and names the test made."""
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, uuid.UUID | dt.datetime | str):
        return "'" + str(value).replace("'", "''") + "'"
    raise TypeError(f"no literal for {type(value).__name__}")


@dataclass
class Explaining:
    """Stands in for a transaction's connection: each fetch runs as a generic plan of
    a prepared statement, under EXPLAIN ANALYZE, and the plan is kept. The rows are
    returned too (EXPLAIN ANALYZE runs the statement but returns the plan, so the
    statement runs once more, plainly, for its rows)."""

    conn: Any
    plans: list[Plan] = field(default_factory=list)

    async def execute(self, sql: str, *args: Any) -> str:
        """What a store sets for its next statement (SET LOCAL enable_sort = off) holds
        for the plan explained, as it does when careline runs it."""
        status: str = await self.conn.execute(sql, *args)
        return status

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        name = f"explained_{next(_names)}"
        await self.conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await self.conn.execute(f"PREPARE {name} AS {sql}")
        execute = (
            f"EXECUTE {name}({', '.join(_literal(a) for a in args)})" if args else f"EXECUTE {name}"
        )
        out = await self.conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {execute}")
        doc = out if isinstance(out, list) else json.loads(out)
        self.plans.append(Plan(sql, doc[0]["Plan"]))
        rows = await self.conn.fetch(execute)
        await self.conn.execute(f"DEALLOCATE {name}")
        return list(rows)


def database_dsn(server: RunningServer, *, user: str, database: str) -> str:
    """A DSN for `user` on another database of the suite's embedded PostgreSQL (plan
    tests seed their own, so the suite's other tests never see that data)."""
    embedded = server.server.config.app.state.database.embedded  # type: ignore[attr-defined]
    dsn: str = embedded.dsn(user=user, database=database)
    return dsn


@asynccontextmanager
async def acting(conn: Any, actor: Actor) -> AsyncIterator[Tx]:
    """A transaction with the actor's settings, as careline/db/tx.py makes them."""
    async with conn.transaction(readonly=True):
        await conn.execute(
            "SELECT set_config('careline.account_id', $1, true), "
            "set_config('careline.tenant_id', $2, true), set_config('careline.role', $3, true)",
            str(actor.account_id),
            str(actor.tenant_id),
            actor.role.value,
        )
        yield Tx(conn=conn, actor=actor)
