"""`careline operator add|remove|list`: who may watch the whole instance's dashboard."""

from __future__ import annotations

import asyncio
import sys

import click


@click.group("operator")
def operator_command() -> None:
    """Operators: people who watch the whole instance's dashboard (every organisation's
    counts, never their data)."""


def _run(email: str | None, *, operator: bool | None) -> None:
    from careline.cli import _settings, _with_database
    from careline.db.tx import Actor, transaction
    from careline.kit.errors import AppError
    from careline.monitoring import service as monitor_service

    async def work() -> bool | list[str]:
        async with transaction(Actor.system()) as tx:
            if email is None or operator is None:
                return await monitor_service.list_operators(tx)
            return await monitor_service.do_set_operator(tx, email, operator=operator)

    try:
        result = asyncio.run(_with_database(_settings(), work))
    except AppError as exc:
        click.echo(f"careline: {exc.detail}", err=True)
        sys.exit(1)
    if isinstance(result, list):
        for address in result:
            click.echo(address)
    elif operator:
        click.echo(f"{email} is an operator" + ("" if result else " (already)"))
    else:
        click.echo(f"{email} is not an operator" + ("" if result else " (was not)"))


@operator_command.command("add")
@click.argument("email")
def operator_add(email: str) -> None:
    """Make the account with EMAIL an operator."""
    _run(email, operator=True)


@operator_command.command("remove")
@click.argument("email")
def operator_remove(email: str) -> None:
    """Make the account with EMAIL an operator no more."""
    _run(email, operator=False)


@operator_command.command("list")
def operator_list() -> None:
    """The operators' e-mail addresses."""
    _run(None, operator=None)
