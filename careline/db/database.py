"""Database lifecycle: start the embedded server when needed, migrate, open the pool."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from careline.config import Settings
from careline.db import migrate
from careline.db.embedded import EmbeddedPostgres
from careline.db.pool import connect_owner, create_app_pool

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "careline"


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None
        self.pool: asyncpg.Pool | None = None

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

    async def stop(self, *, stop_server: bool = True) -> None:
        if self.pool is not None:
            try:
                # Graceful first; a server that is already gone must not hold up shutdown.
                await asyncio.wait_for(self.pool.close(), 5)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                self.pool.terminate()
            self.pool = None
        if stop_server and self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
