"""Runs a migration's SQL file, statement by statement, inside alembic's transaction."""

from __future__ import annotations

from pathlib import Path

from alembic import op

SEPARATOR = "\n--;\n"


def run_sql_file(migration_py: str) -> None:
    sql = Path(migration_py).with_suffix(".sql").read_text()
    bind = op.get_bind()
    for statement in sql.split(SEPARATOR):
        lines = [ln for ln in statement.splitlines() if not ln.lstrip().startswith("--")]
        if "".join(lines).strip():
            bind.exec_driver_sql("\n".join(lines))
