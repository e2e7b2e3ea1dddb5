"""study hours from elsewhere (其他学时): one line per entry, withdrawable. Names need no
change: members have carried theirs since the first revision."""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0006"
down_revision = "enrollment_0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "study_hour_entries",
        sa.Column("entry_id", sa.String(36), primary_key=True),
        sa.Column("member_no", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("studied_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(100)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.String(100)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_study_hour_entries_member_year", "study_hour_entries",
                    ["member_no", "year"])


def downgrade():
    op.drop_index("ix_study_hour_entries_member_year", "study_hour_entries")
    op.drop_table("study_hour_entries")
