"""Invitations instead of instant memberships; name and last seen per membership.

Revision ID: 0004
Revises: 0003
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
