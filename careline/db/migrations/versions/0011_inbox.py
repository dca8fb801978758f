"""A member's "keep archived" preference (docs/web.md, "Archived and unread").

Revision ID: 0011
Revises: 0010
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
