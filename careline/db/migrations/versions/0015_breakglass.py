"""Emergency intervention (break-glass): frozen conversations, read-only access grants
that end by themselves, and timeline entries only staff see (docs/operations.md,
"Emergency intervention").

Revision ID: 0015
Revises: 0014
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
