"""The other side of the outage mapping: on a database that answers, a bug stays a bug.
Bad SQL, a constraint, a statement timeout (SQLSTATE 57014, the same class as a
shutdown) and a misuse of the driver are never turned into the retryable
`database_unavailable`, so a client is never told to retry what can only fail again."""

from __future__ import annotations

import asyncpg
import pytest

from careline.db.tx import Actor, transaction
from careline.kit.errors import DatabaseUnavailable
from tests.support.server import RunningServer


@pytest.mark.parametrize(
    ("sql", "raised"),
    [
        ("SELEC 1", asyncpg.PostgresSyntaxError),
        ("SELECT 1 / 0", asyncpg.DivisionByZeroError),
        (
            "SET LOCAL statement_timeout = 10; SELECT pg_sleep(1)",
            asyncpg.QueryCanceledError,
        ),
        ("SELECT * FROM no_such_table", asyncpg.UndefinedTableError),
    ],
)
async def test_sql_errors_stay_what_they_are(
    server: RunningServer, sql: str, raised: type[Exception]
) -> None:
    with pytest.raises(raised) as caught:
        async with transaction(Actor.system()) as tx:
            await tx.conn.execute(sql)
    assert not isinstance(caught.value, DatabaseUnavailable)


async def test_a_constraint_stays_a_constraint(server: RunningServer) -> None:
    with pytest.raises(asyncpg.UniqueViolationError):
        async with transaction(Actor.system()) as tx:
            await tx.conn.execute("CREATE TEMP TABLE once (id int PRIMARY KEY)")
            await tx.conn.execute("INSERT INTO once VALUES (1), (1)")


async def test_a_driver_misuse_on_a_live_connection_is_a_bug(server: RunningServer) -> None:
    with pytest.raises(asyncpg.InterfaceError) as caught:
        async with transaction(Actor.system()) as tx:
            # A nested transaction() block is a savepoint; an explicit BEGIN inside one
            # is a misuse asyncpg refuses, on a connection that is fine.
            inner = tx.conn.transaction()
            await inner.start()
            await inner.start()
    assert not isinstance(caught.value, DatabaseUnavailable)
    async with transaction(Actor.system(), readonly=True) as tx:
        assert await tx.conn.fetchval("SELECT 1") == 1
