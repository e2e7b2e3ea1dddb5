"""Scheduling's rules, in plain Python: no nameko, no broker."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.kit.errors import DomainError, InvalidInput

from .models import Program, TrainingClass, TrainingSession

SHANGHAI = ZoneInfo("Asia/Shanghai")


def new_id() -> str:
    return str(uuid.uuid4())


def live_sessions(sessions):
    return [s for s in sessions if s.status != "cancelled"]


def core_theory_ratio(sessions) -> float:
    """Share of the class's non-cancelled sessions (not distinct courses) that are core theory."""
    counted = live_sessions(sessions)
    if not counted:
        return 0.0
    return sum(1 for s in counted if s.core_theory) / len(counted)


def passes_two_thirds(sessions) -> bool:
    """The two-thirds rule, in integers so that exactly two thirds passes."""
    counted = live_sessions(sessions)
    core = sum(1 for s in counted if s.core_theory)
    return bool(counted) and 3 * core >= 2 * len(counted)


def new_program(data: dict) -> Program:
    return Program(id=new_id(), **data)


def new_class(data: dict, program: Program) -> TrainingClass:
    audience = data.get("audience") or {}
    if program.track == "members" and audience.get("sector"):
        raise InvalidInput("a member class has a category, not a sector",
                           errors={"audience.sector": ["member classes name a category"]})
    training_class = TrainingClass(
        id=new_id(), program_id=program.id, program=program, title=data["title"],
        sector=audience.get("sector"), module=audience.get("module"),
        category=audience.get("category"), offline_capacity=data["offline_capacity"],
        delivery=data["delivery"], start_date=data["start_date"], end_date=data["end_date"],
        status="draft",
    )
    errors = {}
    for index, session_data in enumerate(data.get("sessions", [])):
        session = new_session(session_data, training_class)
        first_day = session.starts_at.astimezone(SHANGHAI).date()
        last_day = session.ends_at.astimezone(SHANGHAI).date()
        if first_day < training_class.start_date or last_day > training_class.end_date:
            errors[f"sessions.{index}.starts_at"] = ["the session falls outside the class dates"]
    if errors:
        raise InvalidInput("a session falls outside the class dates", errors=errors)
    return training_class


def new_session(data: dict, training_class: TrainingClass) -> TrainingSession:
    session = TrainingSession(
        id=new_id(), course_title=data["course_title"], core_theory=data["core_theory"],
        kind=data["kind"], starts_at=data["starts_at"].astimezone(UTC),
        ends_at=data["ends_at"].astimezone(UTC), hours=data["hours"],
        venue_name=data.get("venue_name"), instructor_name=data.get("instructor_name"),
        live=data.get("live", False), sequence=0, status="scheduled",
    )
    training_class.sessions.append(session)
    return session


def complete_session(session: TrainingSession) -> None:
    if session.status != "scheduled":
        raise DomainError(f"session {session.id} is {session.status}; only a scheduled session "
                          "can be completed", rule="session_lifecycle")
    session.status = "completed"


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def session_data(session: TrainingSession) -> dict:
    """A session as its events and views carry it."""
    return {
        "session_id": session.id,
        "class_id": session.class_id,
        "course_title": session.course_title,
        "core_theory": session.core_theory,
        "kind": session.kind,
        "starts_at": as_utc(session.starts_at),
        "ends_at": as_utc(session.ends_at),
        "hours": session.hours,
        "venue_name": session.venue_name,
        "instructor_name": session.instructor_name,
        "live": session.live,
        "sequence": session.sequence,
    }


def class_data(training_class: TrainingClass) -> dict:
    program = training_class.program
    return {
        "class_id": training_class.id,
        "program_id": program.id,
        "year": program.year,
        "track": program.track,
        "organiser_org_code": program.organiser_org_code,
        "title": training_class.title,
        "audience": {"sector": training_class.sector, "module": training_class.module,
                     "category": training_class.category},
        "offline_capacity": training_class.offline_capacity,
        "delivery": training_class.delivery,
        "start_date": training_class.start_date,
        "end_date": training_class.end_date,
        "core_theory_ratio": core_theory_ratio(training_class.sessions),
        "status": training_class.status,
    }


def program_data(program: Program) -> dict:
    return {
        "program_id": program.id, "year": program.year, "track": program.track,
        "organiser_org_code": program.organiser_org_code, "name": program.name,
        "target_person_times": program.target_person_times,
    }
