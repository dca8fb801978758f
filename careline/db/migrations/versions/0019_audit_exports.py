"""Audit exports: the encrypted CSV or JSON an admin asked for, made by a job in parts
with its progress, removed a day later (docs/audit.md, "The audit page").

Revision ID: 0019
Revises: 0018
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
