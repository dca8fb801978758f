"""Unread escalation: what was told, once per waiting message and stage, and
when a staff member read it (docs/notifications.md, "Escalation").

Revision ID: 0013
Revises: 0012
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
