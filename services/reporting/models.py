"""Reporting's read models, built only from events (the inbox keeps the events themselves)."""

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ClassProgress(Base):
    """Per class: the sessions completed so far and their study hours."""

    __tablename__ = "class_progress"

    class_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    completed_sessions: Mapped[int] = mapped_column(Integer, default=0)
    completed_hours: Mapped[float] = mapped_column(Float, default=0.0)
