"""Reports: the days each person was active, and an index for monthly message counts
(docs/operations.md "Reports").

Revision ID: 0018
Revises: 0017
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
