"""class progress; the outbox and the inbox"""

import sqlalchemy as sa
from alembic import op

from services.kit.migrate import create_kit_tables

revision = "reporting_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_kit_tables(op)
    op.create_table(
        "class_progress",
        sa.Column("class_id", sa.String(36), primary_key=True),
        sa.Column("completed_sessions", sa.Integer, nullable=False),
        sa.Column("completed_hours", sa.Float, nullable=False),
    )


def downgrade():
    for table in ("class_progress", "inbox", "outbox"):
        op.drop_table(table)
