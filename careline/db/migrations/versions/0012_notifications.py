"""Notifications: records per recipient, delivery state, attempts, push subscriptions,
preferences and organisation defaults (docs/notifications.md).

Revision ID: 0012
Revises: 0011
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
