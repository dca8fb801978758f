"""A member's read check in policies as one call the planner can cost (see the .sql).

Revision ID: 0009
Revises: 0006
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
