"""Scheduling's tables: programs, the catalogue (courses, instructors, venues, sites), classes
and their sessions."""

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Program(Base):
    """One per (year, track, organiser organisation)."""
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    track: Mapped[str] = mapped_column(String(20))
    organiser_org_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    target_person_times: Mapped[int] = mapped_column(Integer)


class Instructor(Base):
    __tablename__ = "instructors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    affiliation: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    themes: Mapped[list] = mapped_column(JSON, default=list)
    core_theory: Mapped[bool] = mapped_column(Boolean)
    default_kind: Mapped[str] = mapped_column(String(10), default="lecture")
    default_hours: Mapped[float] = mapped_column(Float)
    default_instructor_id: Mapped[str | None] = mapped_column(ForeignKey("instructors.id"))
    # Secretary sectors the course is written for; empty: every audience.
    sectors: Mapped[list] = mapped_column(JSON, default=list)

    default_instructor: Mapped[Instructor | None] = relationship(lazy="joined")


class Venue(Base):
    """A classroom of the district party school (区委党校)."""
    __tablename__ = "venues"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    seats: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(200))


class Site(Base):
    """An on-site teaching site (现场教学点位): the member categories it suits, one group at a
    time of at most `group_capacity` people."""
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    audiences: Mapped[list] = mapped_column(JSON, default=list)
    group_capacity: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(200))


class TrainingClass(Base):
    """A class (班次)."""
    __tablename__ = "classes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(20))
    module: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(20))
    offline_capacity: Mapped[int] = mapped_column(Integer)
    delivery: Mapped[str] = mapped_column(String(10))
    start_date = mapped_column(Date, nullable=False)
    end_date = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Set once, when the class first leaves draft: from then on consumers know it.
    published_at = mapped_column(DateTime(timezone=True), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # Open online to every secretary the audience admits, without a nomination (DESIGN §1).
    online_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # Nominations wait for the organiser to accept or reject them.
    review_nominations: Mapped[bool] = mapped_column(Boolean, default=False)
    # Rises by one with every event about the class after `class_published`.
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    program: Mapped[Program] = relationship(lazy="joined")
    sessions: Mapped[list["TrainingSession"]] = relationship(
        back_populates="training_class", order_by="TrainingSession.starts_at",
        cascade="all, delete-orphan")


class TrainingSession(Base):
    """A session (课次) of a class. Names are copied from the catalogue when it is referenced,
    so events and calendars carry them; free text stays allowed."""
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("classes.id"), index=True)
    course_id: Mapped[str | None] = mapped_column(String(36))
    course_title: Mapped[str] = mapped_column(String(200))
    core_theory: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(10))
    starts_at = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at = mapped_column(DateTime(timezone=True), nullable=False)
    hours: Mapped[float] = mapped_column(Float)
    venue_id: Mapped[str | None] = mapped_column(String(36))
    site_id: Mapped[str | None] = mapped_column(String(36))
    venue_name: Mapped[str | None] = mapped_column(String(200))
    instructor_id: Mapped[str | None] = mapped_column(String(36))
    instructor_name: Mapped[str | None] = mapped_column(String(100))
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    updated_at = mapped_column(DateTime(timezone=True), nullable=True)

    training_class: Mapped[TrainingClass] = relationship(back_populates="sessions")
