"""organisations, members, classes, sessions, quotas, enrollments, attendance log and current
status, viewing reports, anomaly flags, study hours"""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0002"
down_revision = "enrollment_0001"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "organisations",
        sa.Column("org_code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_code", sa.String(64), index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sector", sa.String(20)),
        sa.Column("secretary_member_no", sa.String(64)),
        sa.Column("committee_code", sa.String(64), index=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # A subtree is `path LIKE '/A/B/%'`: a pattern index lets PostgreSQL answer it by range.
    op.create_index("ix_organisations_path", "organisations", ["path"],
                    postgresql_ops={"path": "text_pattern_ops"})
    op.create_table(
        "members",
        sa.Column("member_no", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("org_code", sa.String(64), nullable=False, index=True),
        sa.Column("joined_on", sa.Date),
        sa.Column("employment", sa.String(20)),
        sa.Column("secretary_of", sa.String(64), index=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "classes",
        sa.Column("class_id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("year", sa.Integer, nullable=False, index=True),
        sa.Column("track", sa.String(20), nullable=False),
        sa.Column("organiser_org_code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(20)),
        sa.Column("module", sa.String(20)),
        sa.Column("category", sa.String(20)),
        sa.Column("offline_capacity", sa.Integer, nullable=False),
        sa.Column("delivery", sa.String(10), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("next_queue_no", sa.Integer, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False, index=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("live", sa.Boolean, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_table(
        "quotas",
        sa.Column("class_id", sa.String(36), primary_key=True),
        sa.Column("committee_code", sa.String(64), primary_key=True),
        sa.Column("seats", sa.Integer, nullable=False),
    )
    op.create_table(
        "enrollments",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False),
        sa.Column("member_no", sa.String(64), nullable=False, index=True),
        sa.Column("org_code", sa.String(64), nullable=False, index=True),
        sa.Column("committee_code", sa.String(64)),
        sa.Column("sector", sa.String(20)),
        sa.Column("category", sa.String(20)),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("queue_no", sa.Integer, nullable=False),
        sa.Column("nominated_by", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("class_id", "member_no", name="uq_enrollment_class_member"),
    )
    op.create_index("ix_enrollments_class_status_queue", "enrollments",
                    ["class_id", "status", "queue_no"])
    op.create_table(
        "attendance",
        sa.Column("position", Position, primary_key=True, autoincrement=True),
        sa.Column("enrollment_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False, index=True),
        sa.Column("class_id", sa.String(36), nullable=False),
        sa.Column("member_no", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("hours_earned", sa.Float, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("correction", sa.Boolean, nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_attendance_enrollment_session", "attendance",
                    ["enrollment_id", "session_id"])
    op.create_table(
        "attendance_current",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False),
        sa.Column("member_no", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("position", Position, nullable=False),
    )
    op.create_index("ix_attendance_current_member", "attendance_current",
                    ["member_no", "status"])
    op.create_index("ix_attendance_current_session", "attendance_current", ["session_id"])
    op.create_table(
        "viewing_reports",
        sa.Column("position", Position, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36)),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("member_no", sa.String(64), nullable=False),
        sa.Column("enrollment_id", sa.String(36)),
        sa.Column("watched_minutes", sa.Float, nullable=False),
        sa.Column("site", sa.String(200)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_viewing_session_member", "viewing_reports", ["session_id", "member_no"])
    op.create_table(
        "anomaly_flags",
        sa.Column("flag_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("member_no", sa.String(64), nullable=False, index=True),
        sa.Column("org_code", sa.String(64)),
        sa.Column("class_id", sa.String(36), index=True),
        sa.Column("session_id", sa.String(36), index=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "study_hours",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("member_no", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("class_id", sa.String(36), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("credited_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_study_hours_member_year", "study_hours", ["member_no", "year"])


def downgrade():
    for table in ("study_hours", "anomaly_flags", "viewing_reports", "attendance_current",
                  "attendance", "enrollments", "quotas", "sessions", "classes", "members",
                  "organisations"):
        op.drop_table(table)
