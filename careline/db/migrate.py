"""Schema migrations through alembic; the scripts live in careline/db/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(owner_dsn: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["owner_dsn"] = owner_dsn
    return cfg


def upgrade(owner_dsn: str) -> None:
    """Bring the schema to the newest revision. Blocking: call from a thread."""
    command.upgrade(_config(owner_dsn), "head")


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config("")).get_current_head()
    assert head is not None
    return head
