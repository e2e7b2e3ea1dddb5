"""Reporting's tables: read models built only from events, its stored report files, its filings.

Read models (`rp_*`) are keyed by the ids the events carry and joined only when a report is
built, so the order in which events of different queues arrive does not matter. Each row keeps
`vkey`, the ordering key of the event that wrote it; an event only overwrites a row whose vkey is
lower, which makes every projection order-independent (live and replay give the same rows).
Hours are stored as integer hundredths (`*_ch`) so that sums are exact in any order.

`report_file`, `filing`, `filing_attachment` and `filing_review` are reporting's own records, not
derived: a replay leaves them alone. A filing row and its attachments are never updated or
deleted (database triggers refuse it, and their sha256 is checked on every read); its review is a
separate row.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


metadata = Base.metadata

VKEY = 120


class ClassProgress(Base):
    """Per class: the sessions completed so far and their study hours (a view over rp_session)."""

    __tablename__ = "class_progress"
    __table_args__ = {"info": {"is_view": True}}

    class_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    completed_sessions: Mapped[int] = mapped_column(Integer)
    completed_hours: Mapped[float] = mapped_column(Float)


rp_program = Table(
    "rp_program", metadata,
    Column("program_id", String(36), primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("track", String(20), nullable=False),
    Column("organiser_org_code", String(64), nullable=False),
    Column("target_person_times", Integer, nullable=False),
    Column("name", String(200)),
    Column("vkey", String(VKEY), nullable=False),
)

rp_class = Table(
    "rp_class", metadata,
    Column("class_id", String(36), primary_key=True),
    Column("program_id", String(36), nullable=False),
    Column("year", Integer, nullable=False, index=True),
    Column("track", String(20), nullable=False),
    Column("organiser_org_code", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("sector", String(20)),
    Column("module", String(20)),
    Column("category", String(20)),
    Column("offline_capacity", Integer, nullable=False),
    Column("delivery", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("core_theory_ratio", Float, nullable=False),
    Column("status", String(20), nullable=False),
    Column("online_open", Boolean, nullable=False, server_default=false()),
    Column("review_nominations", Boolean, nullable=False, server_default=false()),
    # Rises with every change of the published class (class_changed): the highest one wins,
    # and a plan filed at a lower one is "changed since filed".
    Column("sequence", Integer, nullable=False, server_default="0"),
    Column("class_hours_ch", Integer),
    Column("sessions_completed", Integer),
    Column("completed_on", Date),   # Asia/Shanghai date of class_completed
    Column("vkey", String(VKEY), nullable=False),
)

rp_session = Table(
    "rp_session", metadata,
    Column("session_id", String(36), primary_key=True),
    Column("class_id", String(36), nullable=False, index=True),
    Column("course_title", String(200), nullable=False),
    Column("core_theory", Boolean, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("hours_ch", Integer, nullable=False),
    Column("venue_name", String(200)),
    Column("instructor_name", String(200)),
    Column("live", Boolean, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("vkey", String(VKEY), nullable=False),
)

rp_org = Table(
    "rp_org", metadata,
    Column("org_code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("parent_code", String(64)),
    Column("kind", String(20), nullable=False),
    Column("sector", String(20)),
    Column("secretary_member_no", String(64)),
    Column("vkey", String(VKEY), nullable=False),
)

rp_person = Table(
    "rp_person", metadata,
    Column("member_no", String(64), primary_key=True),
    Column("name", String(100)),          # for the records a clerk files (姓名 beside 党员编号)
    Column("org_code", String(64)),
    Column("committee_code", String(64)),
    Column("joined_on", Date),
    Column("employment", String(20)),
    Column("secretary_of", String(64)),
    Column("active", Boolean, nullable=False),
    Column("vkey", String(VKEY), nullable=False),
)

rp_enrollment = Table(
    "rp_enrollment", metadata,
    Column("enrollment_id", String(36), primary_key=True),
    Column("class_id", String(36), nullable=False, index=True),
    Column("member_no", String(64), nullable=False, index=True),
    Column("org_code", String(64), nullable=False),
    Column("committee_code", String(64)),
    Column("sector", String(20)),
    Column("category", String(20)),
    Column("mode", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("origin", String(20), nullable=False, server_default="nomination"),
    Column("vkey", String(VKEY), nullable=False),
)

rp_attendance = Table(
    "rp_attendance", metadata,
    Column("enrollment_id", String(36), primary_key=True),
    Column("session_id", String(36), primary_key=True),
    Column("class_id", String(36), nullable=False, index=True),
    Column("member_no", String(64), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("hours_ch", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("correction", Boolean, nullable=False),
    # The class's attendance chain head this entry made (its sha256 and place), when the event
    # carries it: the class's current head is the highest place among its rows.
    Column("chain_head", String(64)),
    Column("chain_sequence", BigInteger),
    Column("vkey", String(VKEY), nullable=False),
)

rp_completion = Table(
    "rp_completion", metadata,
    Column("enrollment_id", String(36), primary_key=True),
    Column("class_id", String(36), nullable=False, index=True),
    Column("member_no", String(64), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attended_ch", Integer, nullable=False),
    Column("class_ch", Integer, nullable=False),
    # Where the person sat at enrolment, when the event carries it (a fallback for reports
    # when the enrolment event itself has not arrived).
    Column("org_code", String(64)),
    Column("committee_code", String(64)),
    Column("sector", String(20)),
    Column("vkey", String(VKEY), nullable=False),
)

# Study hours earned outside this system's classes (其他学时), one row per entry; a withdrawn
# entry keeps its row, flagged, and counts nowhere.
rp_study_hours = Table(
    "rp_study_hours", metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("member_no", String(64), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("hours_ch", Integer, nullable=False),
    Column("source", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Column("vkey", String(VKEY), nullable=False),
)

# What `peixun replay` empties and rebuilds.
READ_MODELS = (rp_program, rp_class, rp_session, rp_org, rp_person, rp_enrollment,
               rp_attendance, rp_completion, rp_study_hours)

# One row (id 1): the read models' generation, bumped by every replay so that report files
# stored before it are not served after it; and whether a replay is under way.
rp_state = Table(
    "rp_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("replayed_at", DateTime(timezone=True)),
    Column("replayed_events", BigInteger),
    Column("rebuilding", Boolean, nullable=False),   # set while a replay has not finished
    # A new random value with every batch of organisation_changed applied: reports keep the
    # tree they built until it moves (with the generation, which a replay bumps).
    Column("tree_version", BigInteger, nullable=False, server_default="0"),
)

report_file = Table(
    "report_file", metadata,
    Column("id", String(36), primary_key=True),
    Column("report", String(40), nullable=False),
    Column("params", Text, nullable=False),        # canonical JSON of the resolved parameters
    Column("format", String(10), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("position", BigInteger, nullable=False),   # the last inbox position it reflects
    Column("watermark", String(200), nullable=False),
    Index("ix_report_file_lookup", "report", "format", "watermark"),
)

filing = Table(
    "filing", metadata,
    Column("filing_id", String(36), primary_key=True),
    Column("class_id", String(36), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("version", Integer, nullable=False),
    Column("year", Integer, nullable=False, index=True),
    Column("org_code", String(64), nullable=False),
    Column("parent_code", String(64), index=True),
    Column("report", String(40), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("deadline", Date, nullable=False),         # the last day (Asia/Shanghai) in time
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("filed_by", String(100), nullable=False),
    # The class's sequence the filed version was built at (None: filed before it was kept).
    Column("class_sequence", Integer),
    # A record: the class's attendance chain head it summarised, and its place (0 and None:
    # no attendance yet; None and None: filed before heads were kept, or a plan).
    Column("attendance_chain_sequence", BigInteger),
    Column("attendance_chain_head", String(64)),
    UniqueConstraint("class_id", "kind", "version", name="uq_filing_version"),
)

filing_review = Table(
    "filing_review", metadata,
    Column("filing_id", String(36), primary_key=True),   # one review per version
    Column("action", String(20), nullable=False),        # acknowledged | returned
    Column("reason", Text),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
    Column("reviewed_by", String(100), nullable=False),
)

# What a version was filed with (附件: a scanned signed 签到表, photos), written with it and final
# like it: a re-filing carries attachments of its own.
filing_attachment = Table(
    "filing_attachment", metadata,
    Column("attachment_id", String(36), primary_key=True),
    Column("filing_id", String(36), nullable=False, index=True),
    Column("position", Integer, nullable=False),       # the order they were uploaded in
    Column("file_name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)
