"""Keyset lists: the member sort key as a stored column, and an index for every list.

Revision ID: 0008
Revises: 0006
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
