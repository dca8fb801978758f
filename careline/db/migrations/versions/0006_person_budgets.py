"""Per-person file bytes per day: an organisation setting, counted from what is stored.

Revision ID: 0006
Revises: 0004
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
