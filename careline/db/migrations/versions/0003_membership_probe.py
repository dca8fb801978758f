"""Membership in row-level security policies as a probe per row (see the .sql).

Revision ID: 0003
Revises: 0002
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
