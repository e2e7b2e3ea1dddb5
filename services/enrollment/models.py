"""Enrollment's tables: the organisation tree, members, what it knows of classes and sessions,
enrolments and quotas, the attendance log, viewing reports, anomaly flags and study hours.

Personal data is kept to what nomination and the reports need: a member's number, name,
organisation, join date and employment. Nothing else about a person is stored.
"""

from datetime import UTC

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements an INTEGER PRIMARY KEY.
Position = BigInteger().with_variant(Integer(), "sqlite")


class Instant(TypeDecorator):
    """A moment, stored in UTC and read back in UTC on either database. SQLite keeps a
    datetime's wall-clock digits and drops its offset: 15:05+08:00 came back as 15:05+00:00."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    """A node of the tree: district → party (work) committees → grassroots organisations.

    `path` is the chain of codes from the root, `/ROOT/COMMITTEE/ORG/`, so that a subtree is one
    prefix match and the ancestors are the path itself. `committee_code` is the ancestor
    directly under the root (the organisation itself when it is a committee)."""

    __tablename__ = "organisations"

    org_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    sector: Mapped[str | None] = mapped_column(String(20))
    secretary_member_no: Mapped[str | None] = mapped_column(String(64))
    committee_code: Mapped[str | None] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(Text)
    depth: Mapped[int] = mapped_column(Integer)
    updated_at = mapped_column(Instant(), nullable=False)


class Member(Base):
    __tablename__ = "members"
    # Only secretaries are looked up by their organisation: a partial index keeps the members
    # who are not (nearly all) out of it, which a member import's inserts feel.
    __table_args__ = (Index("ix_members_secretary_of", "secretary_of",
                            postgresql_where=text("secretary_of IS NOT NULL"),
                            sqlite_where=text("secretary_of IS NOT NULL")),)

    member_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    org_code: Mapped[str] = mapped_column(String(64), index=True)
    joined_on = mapped_column(Date, nullable=True)
    employment: Mapped[str | None] = mapped_column(String(20))
    secretary_of: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the registry (or an import) said this: an older registry event never overwrites it.
    source_at = mapped_column(Instant(), nullable=False)


class TrainingClass(Base):
    """A class as scheduling's events describe it, with what enrollment counts of it."""

    __tablename__ = "classes"

    class_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    program_id: Mapped[str] = mapped_column(String(36))
    year: Mapped[int] = mapped_column(Integer, index=True)
    track: Mapped[str] = mapped_column(String(20))
    organiser_org_code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(20))
    module: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(20))
    offline_capacity: Mapped[int] = mapped_column(Integer)
    delivery: Mapped[str] = mapped_column(String(10))
    start_date = mapped_column(Date, nullable=False)
    end_date = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20))
    next_queue_no: Mapped[int] = mapped_column(Integer, default=1)
    completed_at = mapped_column(Instant(), nullable=True)
    # Open online to everyone its audience admits; nominations wait for the organiser.
    online_open: Mapped[bool] = mapped_column(Boolean, default=False)
    review_nominations: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)   # of the newest change seen


class TrainingSession(Base):
    __tablename__ = "sessions"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(36), index=True)
    starts_at = mapped_column(Instant(), nullable=False)
    ends_at = mapped_column(Instant(), nullable=False)
    hours: Mapped[float] = mapped_column(Float)
    live: Mapped[bool] = mapped_column(Boolean)
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))


class Quota(Base):
    """Optional: at most `seats` active nominations of one party committee's people."""

    __tablename__ = "quotas"

    class_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    committee_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    seats: Mapped[int] = mapped_column(Integer)


class Enrollment(Base):
    """One person in one class. Where the person sat (organisation, committee, sector) and
    their category are copied in at enrolment: figures count them there for good."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("class_id", "member_no", name="uq_enrollment_class_member"),
        Index("ix_enrollments_class_status_queue", "class_id", "status", "queue_no"),
    )

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(36))
    member_no: Mapped[str] = mapped_column(String(64), index=True)
    org_code: Mapped[str] = mapped_column(String(64), index=True)
    committee_code: Mapped[str | None] = mapped_column(String(64))
    sector: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    queue_no: Mapped[int] = mapped_column(Integer)   # first come, first promoted
    nominated_by: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(20), default="nomination")   # or live
    reviewed_by: Mapped[str | None] = mapped_column(String(100))   # who accepted or rejected
    reason: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(Instant(), nullable=False)
    updated_at = mapped_column(Instant(), nullable=False)


class AttendanceEntry(Base):
    """The attendance log: append-only (the database refuses UPDATE and DELETE). A correction
    is a new entry; the latest one counts.

    Each class's entries form a hash chain: `chain_seq` counts them 1, 2, … in the class,
    `entry_hash` is the sha256 over the entry's content and `prev_hash`, the entry before it
    (attendance.entry_hash), so that an entry changed or removed behind the service's back shows
    (`peixun verify attendance`). `recorded_by` is who made it (a person or token, or the system
    that did: the live platform, completion) and `device` where from (a check-in page, the
    live platform's remote viewing site)."""

    __tablename__ = "attendance"
    __table_args__ = (Index("ix_attendance_enrollment_session", "enrollment_id", "session_id"),
                      # One entry per place in a chain: a fork cannot be written.
                      UniqueConstraint("class_id", "chain_seq", name="uq_attendance_chain"))

    position: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    enrollment_id: Mapped[str] = mapped_column(String(36))
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    class_id: Mapped[str] = mapped_column(String(36))
    member_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    hours_earned: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))    # checkin, live, completion, correction
    correction: Mapped[bool] = mapped_column(Boolean)
    checked_in_at = mapped_column(Instant(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at = mapped_column(Instant(), nullable=False)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    device: Mapped[str | None] = mapped_column(String(200))
    chain_seq: Mapped[int] = mapped_column(Position)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class CurrentAttendance(Base):
    """The effective status per (enrolment, session): the log's latest entry, kept beside it
    so that completion, overlaps and listings are one indexed read."""

    __tablename__ = "attendance_current"
    __table_args__ = (Index("ix_attendance_current_member", "member_no", "status"),
                      Index("ix_attendance_current_session", "session_id"),
                      Index("ix_attendance_current_class", "class_id", "status"))

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(36))
    member_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Position)


class ViewingReport(Base):
    """What the live platform reported, kept whether or not the viewer was enrolled."""

    __tablename__ = "viewing_reports"
    __table_args__ = (Index("ix_viewing_session_member", "session_id", "member_no"),)

    position: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[str] = mapped_column(String(36))
    member_no: Mapped[str] = mapped_column(String(64))
    enrollment_id: Mapped[str | None] = mapped_column(String(36))
    watched_minutes: Mapped[float] = mapped_column(Float)
    site: Mapped[str | None] = mapped_column(String(200))
    received_at = mapped_column(Instant(), nullable=False)


class AnomalyFlag(Base):
    __tablename__ = "anomaly_flags"

    flag_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    member_no: Mapped[str] = mapped_column(String(64), index=True)
    org_code: Mapped[str | None] = mapped_column(String(64))
    class_id: Mapped[str | None] = mapped_column(String(36), index=True)
    session_id: Mapped[str | None] = mapped_column(String(36), index=True)
    detail = mapped_column(JSON, nullable=False)
    created_at = mapped_column(Instant(), nullable=False)


class StudyHours(Base):
    """The yearly study-hour ledger: one line per completed enrolment, in the class's year."""

    __tablename__ = "study_hours"
    __table_args__ = (Index("ix_study_hours_member_year", "member_no", "year"),)

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    class_id: Mapped[str] = mapped_column(String(36))
    hours: Mapped[float] = mapped_column(Float)
    credited_at = mapped_column(Instant(), nullable=False)


class StudyHourEntry(Base):
    """Study hours earned outside this system's classes (其他学时), one line per entry. A
    withdrawn entry is kept, marked, and counts no more."""

    __tablename__ = "study_hour_entries"
    __table_args__ = (Index("ix_study_hour_entries_member_year", "member_no", "year"),)

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    on = mapped_column("studied_on", Date, nullable=False)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    recorded_at = mapped_column(Instant(), nullable=False)
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdrawn_at = mapped_column(Instant(), nullable=True)


class Certificate(Base):
    """The verification code printed on an enrolment's 结业证书: random, issued the first time
    the certificate is drawn and the same ever after. Whether it still vouches for anything is
    read from the enrolment each time it is asked (a correction may undo a completion)."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("enrollment_id", name="uq_certificates_enrollment"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(36))
    issued_at = mapped_column(Instant(), nullable=False)
