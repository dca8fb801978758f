"""The audit: append-only events of every access and admin change, chained by hash per
organisation with signed checkpoints (docs/audit.md).

Revision ID: 0014
Revises: 0013
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
