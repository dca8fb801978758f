"""Core schema: tenants, identity, conversations, the timeline, messages; RLS on all.

Revision ID: 0001
Revises:
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
