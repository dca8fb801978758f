"""Attachments (forced RLS like every tenant table) and the job queue's schema.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_only

from careline.db.migrations.sqlscript import run_sql_file

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

QUEUE_SCHEMA = "procrastinate"


def _load_queue_schema() -> None:
    """procrastinate's own schema script, into its schema. The script holds function
    bodies full of semicolons, so it runs whole, over the driver's simple-query path,
    inside alembic's transaction."""
    bind = op.get_bind()
    bind.exec_driver_sql(f"SET LOCAL search_path = {QUEUE_SCHEMA}")
    raw = bind.connection.driver_connection
    assert raw is not None
    await_only(raw.execute(SchemaManager.get_schema()))
    bind.exec_driver_sql("SET LOCAL search_path = public")
    for statement in (
        f"GRANT USAGE ON SCHEMA {QUEUE_SCHEMA} TO careline_app",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {QUEUE_SCHEMA} TO careline_app",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {QUEUE_SCHEMA} TO careline_app",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {QUEUE_SCHEMA} TO careline_app",
        f"GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA {QUEUE_SCHEMA} TO careline_app",
    ):
        bind.exec_driver_sql(statement)


def upgrade() -> None:
    run_sql_file(__file__)
    _load_queue_schema()


def downgrade() -> None:
    raise RuntimeError("careline migrations are forward-only: restore a backup instead")
