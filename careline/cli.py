"""The `careline` command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from careline import config, logs

T = TypeVar("T")


def _settings() -> config.Settings:
    try:
        settings = config.Settings()
    except ValidationError as exc:
        click.echo("careline: invalid configuration:", err=True)
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "settings"
            click.echo(f"  {where}: {e['msg']}", err=True)
        sys.exit(2)
    config.use(settings)
    logs.configure(settings.log_level)
    return settings


async def _with_database(settings: config.Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with the database started, migrated and wired like the server's."""
    from careline.app import load_keyring
    from careline.audit import service as audit_service
    from careline.db import tx
    from careline.db.database import Database
    from careline.keys import service as key_service

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_service.configure(load_keyring(settings))
    database = Database(settings)
    pool = await database.start()
    tx.configure(pool, None)
    tx.configure_audit(audit_service.flush)
    try:
        return await work()
    finally:
        tx.configure(None, None)
        tx.configure_audit(None)
        await database.stop()


@click.group()
def main() -> None:
    """careline: secure, real-time messaging for care."""


@main.command()
@click.option("--host", default=None, help="Override CARELINE_HOST.")
@click.option("--port", type=int, default=None, help="Override CARELINE_PORT.")
def serve(host: str | None, port: int | None) -> None:
    """Run the server (migrates the database first)."""
    from careline.app import server

    settings = _settings()
    if host is not None or port is not None:
        overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        settings = settings.model_copy(update=overrides)
        config.use(settings)
    click.echo(f"careline serving at {settings.base_url}")
    click.echo(scanner_line(settings))
    server(settings).run()


def scanner_line(settings: config.Settings) -> str:
    """One line on file sharing, said at start (`make run` shows it)."""
    from careline.attachments import daemon

    status = daemon.preflight(settings)
    if status.available:
        own = "careline's own clamd" if not settings.clamd_address else "clamd"
        return f"file sharing: on (virus scans by {own})"
    return f"file sharing: paused until a virus scanner runs: {status.detail}"


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = _settings()

    async def nothing() -> None:
        return None

    asyncio.run(_with_database(settings, nothing))
    click.echo("schema is current")


@main.command()
def demo() -> None:
    """Create the demo organisation if missing, and print its URL and logins."""
    from careline.demo import NAME, ensure_demo

    settings = _settings()
    logins = asyncio.run(_with_database(settings, ensure_demo))
    click.echo(f"\n{NAME} demo at {settings.base_url}\n")
    click.echo(f"  {'role':9} {'e-mail':24} password")
    for persona, password in logins:
        click.echo(f"  {persona.role.value:9} {persona.email:24} {password}")
    click.echo("")


@main.command("create-tenant")
@click.option("--slug", required=True, help="Short name in URLs, e.g. riverside.")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--admin-email", required=True)
@click.option("--admin-name", required=True)
@click.option("--admin-password", default=None, help="Omit to have one generated.")
def create_tenant(
    slug: str, name: str, admin_email: str, admin_name: str, admin_password: str | None
) -> None:
    """Create an organisation and its first admin."""
    from careline.db.tx import Actor, Role, transaction
    from careline.kit.errors import AppError
    from careline.tenants import service as tenant_service

    settings = _settings()

    async def work() -> tuple[Any, str | None]:
        async with transaction(Actor.system()) as tx:
            tenant = await tenant_service.do_create_tenant(tx, slug=slug, name=name)
        async with transaction(Actor.system(tenant.id)) as tx:
            return await tenant_service.do_add_member(
                tx,
                tenant_id=tenant.id,
                email=admin_email,
                display_name=admin_name,
                role=Role.ADMIN,
                password=admin_password,
            )

    try:
        member, password = asyncio.run(_with_database(settings, work))
    except AppError as exc:
        click.echo(f"careline: {exc.detail}", err=True)
        sys.exit(1)
    click.echo(f"created {slug}; admin {member.email}")
    if password:
        click.echo(f"initial password (shown once): {password}")


@main.group()
def keys() -> None:
    """Encryption keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Start a new data key version for every organisation. New writes use it; old
    records keep reading under the version they were written with."""
    from careline.audit import service as audit_service
    from careline.db.tx import Actor, transaction
    from careline.keys import service as key_service

    settings = _settings()

    async def work() -> dict[Any, int]:
        async with transaction(Actor.system()) as tx:
            versions = await key_service.do_rotate_all(tx)
            for tenant_id, version in versions.items():
                await audit_service.record(
                    tx, "keys.rotated", tenant_id=tenant_id, detail={"version": version}
                )
            return versions

    versions = asyncio.run(_with_database(settings, work))
    click.echo(f"rotated {len(versions)} organisation(s)")
    for tenant_id, version in versions.items():
        click.echo(f"  {tenant_id}: now version {version}")


@main.command("config-docs")
def config_docs() -> None:
    """Print docs/config.md, generated from the settings."""
    click.echo(config.config_markdown(), nl=False)


from careline.bench.cli import bench_command  # noqa: E402 - registered last, imports lazily

main.add_command(bench_command)
