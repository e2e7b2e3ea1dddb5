"""Scheduling's tables: programs, classes and their sessions."""

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    track: Mapped[str] = mapped_column(String(20))
    organiser_org_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    target_person_times: Mapped[int] = mapped_column(Integer)


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

    program: Mapped[Program] = relationship(lazy="joined")
    sessions: Mapped[list["TrainingSession"]] = relationship(
        back_populates="training_class", order_by="TrainingSession.starts_at")


class TrainingSession(Base):
    """A session (课次) of a class."""
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("classes.id"), index=True)
    course_title: Mapped[str] = mapped_column(String(200))
    core_theory: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(10))
    starts_at = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at = mapped_column(DateTime(timezone=True), nullable=False)
    hours: Mapped[float] = mapped_column(Float)
    venue_name: Mapped[str | None] = mapped_column(String(200))
    instructor_name: Mapped[str | None] = mapped_column(String(100))
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")

    training_class: Mapped[TrainingClass] = relationship(back_populates="sessions")
