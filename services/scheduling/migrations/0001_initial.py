"""programs, classes, sessions; the outbox and the inbox"""

import sqlalchemy as sa
from alembic import op

from services.kit.migrate import create_kit_tables

revision = "scheduling_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_kit_tables(op)
    op.create_table(
        "programs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("year", sa.Integer, nullable=False, index=True),
        sa.Column("track", sa.String(20), nullable=False),
        sa.Column("organiser_org_code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("target_person_times", sa.Integer, nullable=False),
    )
    op.create_table(
        "classes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), sa.ForeignKey("programs.id"), nullable=False,
                  index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(20)),
        sa.Column("module", sa.String(20)),
        sa.Column("category", sa.String(20)),
        sa.Column("offline_capacity", sa.Integer, nullable=False),
        sa.Column("delivery", sa.String(10), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), sa.ForeignKey("classes.id"), nullable=False,
                  index=True),
        sa.Column("course_title", sa.String(200), nullable=False),
        sa.Column("core_theory", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("venue_name", sa.String(200)),
        sa.Column("instructor_name", sa.String(100)),
        sa.Column("live", sa.Boolean, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )


def downgrade():
    for table in ("sessions", "classes", "programs", "inbox", "outbox"):
        op.drop_table(table)
