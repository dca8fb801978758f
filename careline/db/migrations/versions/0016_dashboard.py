"""The monitoring dashboard: operators (who may watch the whole instance) and the index
the dashboard's per-minute message counts read (docs/operations.md#dashboard).

Revision ID: 0016
Revises: 0015
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
