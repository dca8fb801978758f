"""Alerts: what the evaluator raised and cleared, and its running counts of each rule
(careline/monitoring/alerts.py, docs/operations.md "Alerts").

Revision ID: 0017
Revises: 0016
"""

from careline.db.migrations.sqlscript import run_sql_file

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
