"""read models keyed by event ids; stored report files; filings that never change

class_progress becomes a view over rp_session (same columns, so its RPC and readers keep
working). After upgrading a database that already holds events, run `peixun replay` to build
the new read models from the inbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "reporting_0002"
down_revision = "reporting_0001"
branch_labels = None
depends_on = None

VKEY = 120

CLASS_PROGRESS_VIEW = """
CREATE VIEW class_progress AS
SELECT class_id,
       COUNT(*) AS completed_sessions,
       CAST(SUM(hours_ch) AS DOUBLE PRECISION) / 100 AS completed_hours
FROM rp_session WHERE status = 'completed' GROUP BY class_id
"""

PG_FORBID = """
CREATE FUNCTION reporting_filed_is_final() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a filed version never changes (%: %)', TG_TABLE_NAME, TG_OP;
END $$ LANGUAGE plpgsql
"""


def _vkey():
    return sa.Column("vkey", sa.String(VKEY), nullable=False)


def upgrade():
    op.drop_table("class_progress")
    op.create_table(
        "rp_program",
        sa.Column("program_id", sa.String(36), primary_key=True),
        sa.Column("year", sa.Integer, nullable=False, index=True),
        sa.Column("track", sa.String(20), nullable=False),
        sa.Column("organiser_org_code", sa.String(64), nullable=False),
        sa.Column("target_person_times", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200)),
        _vkey(),
    )
    op.create_table(
        "rp_class",
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
        sa.Column("delivery", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("core_theory_ratio", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("class_hours_ch", sa.Integer),
        sa.Column("sessions_completed", sa.Integer),
        sa.Column("completed_on", sa.Date),
        _vkey(),
    )
    op.create_table(
        "rp_session",
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False, index=True),
        sa.Column("course_title", sa.String(200), nullable=False),
        sa.Column("core_theory", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours_ch", sa.Integer, nullable=False),
        sa.Column("venue_name", sa.String(200)),
        sa.Column("instructor_name", sa.String(200)),
        sa.Column("live", sa.Boolean, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _vkey(),
    )
    op.create_table(
        "rp_org",
        sa.Column("org_code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_code", sa.String(64)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sector", sa.String(20)),
        sa.Column("secretary_member_no", sa.String(64)),
        _vkey(),
    )
    op.create_table(
        "rp_person",
        sa.Column("member_no", sa.String(64), primary_key=True),
        sa.Column("org_code", sa.String(64)),
        sa.Column("committee_code", sa.String(64)),
        sa.Column("joined_on", sa.Date),
        sa.Column("employment", sa.String(20)),
        sa.Column("secretary_of", sa.String(64)),
        sa.Column("active", sa.Boolean, nullable=False),
        _vkey(),
    )
    op.create_table(
        "rp_enrollment",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False, index=True),
        sa.Column("member_no", sa.String(64), nullable=False, index=True),
        sa.Column("org_code", sa.String(64), nullable=False),
        sa.Column("committee_code", sa.String(64)),
        sa.Column("sector", sa.String(20)),
        sa.Column("category", sa.String(20)),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _vkey(),
    )
    op.create_table(
        "rp_attendance",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False, index=True),
        sa.Column("member_no", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hours_ch", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction", sa.Boolean, nullable=False),
        _vkey(),
    )
    op.create_table(
        "rp_completion",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False, index=True),
        sa.Column("member_no", sa.String(64), nullable=False, index=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attended_ch", sa.Integer, nullable=False),
        sa.Column("class_ch", sa.Integer, nullable=False),
        sa.Column("org_code", sa.String(64)),
        sa.Column("committee_code", sa.String(64)),
        sa.Column("sector", sa.String(20)),
        _vkey(),
    )
    state = op.create_table(
        "rp_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True)),
        sa.Column("replayed_events", sa.BigInteger),
        sa.Column("rebuilding", sa.Boolean, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "generation": 0, "rebuilding": False}])
    op.create_table(
        "report_file",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("report", sa.String(40), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("watermark", sa.String(200), nullable=False),
    )
    op.create_index("ix_report_file_lookup", "report_file", ["report", "format", "watermark"])
    op.create_table(
        "filing",
        sa.Column("filing_id", sa.String(36), primary_key=True),
        sa.Column("class_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("year", sa.Integer, nullable=False, index=True),
        sa.Column("org_code", sa.String(64), nullable=False),
        sa.Column("parent_code", sa.String(64), index=True),
        sa.Column("report", sa.String(40), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("class_id", "kind", "version", name="uq_filing_version"),
    )
    op.create_table(
        "filing_review",
        sa.Column("filing_id", sa.String(36), sa.ForeignKey("filing.filing_id"),
                  primary_key=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(100), nullable=False),
    )
    # The replay reads each consumer's events a position range at a time.
    op.create_index("ix_inbox_consumer_position", "inbox", ["consumer", "position"])
    op.execute(CLASS_PROGRESS_VIEW)
    # A filed version, and its review once made, never change: the database refuses it too.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FORBID)
        for table in ("filing", "filing_review"):
            op.execute(f"CREATE TRIGGER {table}_is_final BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION reporting_filed_is_final()")
    else:
        for table in ("filing", "filing_review"):
            for action in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON "
                           f"{table} BEGIN SELECT RAISE(ABORT, 'a filed version never changes "
                           f"({table}: {action})'); END")


def downgrade():
    op.execute("DROP VIEW class_progress")
    op.drop_index("ix_inbox_consumer_position", "inbox")
    for table in ("filing_review", "filing", "report_file", "rp_state", "rp_completion",
                  "rp_attendance", "rp_enrollment", "rp_person", "rp_org", "rp_session",
                  "rp_class", "rp_program"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION reporting_filed_is_final()")
    op.create_table(
        "class_progress",
        sa.Column("class_id", sa.String(36), primary_key=True),
        sa.Column("completed_sessions", sa.Integer, nullable=False),
        sa.Column("completed_hours", sa.Float, nullable=False),
    )
