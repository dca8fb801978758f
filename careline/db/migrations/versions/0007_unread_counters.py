"""Unread counts kept as messages are written (docs/architecture.md#receipts).

Revision ID: 0007
Revises: 0006
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
