"""Database lifecycle: start the embedded server when needed, migrate, open the pool,
and keep the embedded server running (restarted with backoff if it dies)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess

import asyncpg

from careline.config import Settings
from careline.db import migrate
from careline.db.embedded import EmbeddedPostgres
from careline.db.pool import connect_owner, create_app_pool
from careline.kit import tasks

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "careline"
WATCH_SECONDS = 1.0  # how often the supervisor looks for the postmaster
RESTART_BACKOFF = (0.5, 10.0)  # first wait between restart attempts, and the cap


def _reason(exc: BaseException) -> str:
    """The last line pg_ctl or the server log gave (no data: PostgreSQL's own words)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    fatal = [line for line in lines if "FATAL:" in line]
    return (fatal or lines or [type(exc).__name__])[-1][-300:]


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None
        self.pool: asyncpg.Pool | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._restarting: asyncio.Future[None] | None = None

    @property
    def owner_dsn(self) -> str:
        if self.embedded is not None:
            return self.embedded.dsn(user="postgres", database=EMBEDDED_DATABASE)
        assert self.settings.database_url is not None
        return self.settings.database_url

    @property
    def app_dsn(self) -> str:
        if self.embedded is not None:
            return self.embedded.dsn(user="careline_app", database=EMBEDDED_DATABASE)
        assert self.settings.database_app_url is not None
        return self.settings.database_app_url

    async def start_server(self) -> None:
        """Start the embedded server (if configured) and make sure the database exists."""
        if not self.settings.embedded:
            return
        self.embedded = EmbeddedPostgres(
            self.settings.data_dir.resolve() / "pgdata", durable=self.settings.database_durable
        )
        await asyncio.to_thread(self.embedded.start)
        conn = await connect_owner(self.embedded.dsn(user="postgres", database="postgres"))
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", EMBEDDED_DATABASE
            )
            if not exists:
                await conn.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
        finally:
            await conn.close()

    async def migrate(self) -> None:
        await asyncio.to_thread(migrate.upgrade, self.owner_dsn)

    async def open_pool(self) -> asyncpg.Pool:
        self.pool = await create_app_pool(self.app_dsn, size=self.settings.db_pool_size)
        return self.pool

    async def start(self) -> asyncpg.Pool:
        await self.start_server()
        await self.migrate()
        return await self.open_pool()

    def supervise(self) -> None:
        """Watch the embedded server this process manages and start it again when it
        dies (no-op for an external PostgreSQL, or a server another careline manages)."""
        if self.embedded is not None and self.embedded.managed and self._supervisor is None:
            self._supervisor = asyncio.get_running_loop().create_task(
                self._supervise(self.embedded), name="embedded-postgres-supervisor"
            )

    async def _supervise(self, server: EmbeddedPostgres) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                if not await asyncio.to_thread(server.running):
                    await self._restart(server)
            except Exception:  # a bug here must not end supervision
                log.exception("embedded PostgreSQL supervision failed; watching on")

    async def _restart(self, server: EmbeddedPostgres) -> None:
        log.error("embedded PostgreSQL is not running; restarting it")
        delay, cap = RESTART_BACKOFF
        attempt = 1
        while True:
            # Shielded: pg_ctl runs on in its thread if the supervisor is cancelled, and
            # stop() waits for it before stopping the server.
            self._restarting = asyncio.ensure_future(asyncio.to_thread(server.start))
            try:
                await asyncio.shield(self._restarting)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                log.warning(
                    "embedded PostgreSQL did not start; trying again",
                    extra={"attempt": attempt, "in_seconds": delay, "reason": _reason(exc)},
                )
                await asyncio.sleep(delay)
                delay, attempt = min(delay * 2, cap), attempt + 1
                continue
            log.warning("embedded PostgreSQL restarted", extra={"attempts": attempt})
            return

    async def stop(self, *, stop_server: bool = True) -> None:
        await tasks.cancel(self._supervisor)
        self._supervisor = None
        if self._restarting is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._restarting, 90)
            self._restarting = None
        if self.pool is not None:
            try:
                # Graceful first; a server that is already gone must not hold up shutdown.
                await asyncio.wait_for(self.pool.close(), 5)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                self.pool.terminate()
            self.pool = None
        if stop_server and self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
