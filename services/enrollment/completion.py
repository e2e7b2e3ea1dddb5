"""Completion (结业) and the yearly study-hour ledger.

On class_completed every enrolled person is `completed` when their attended (present or online)
hours reach the share of the class's hours (PEIXUN_COMPLETION_SHARE, 0.8), else `incomplete`.
A completed enrolment credits its attended hours to the person's ledger for the class's year.
Corrections that arrive after completion decide that one enrolment again.
"""

from datetime import datetime

from sqlalchemy import delete, func, select, update

from services.kit.errors import RetryLater

from . import domain, events
from .enrolment import apply_class, lock_class, release_all
from .models import CurrentAttendance, Enrollment, StudyHours, TrainingClass, TrainingSession
from .sql import upsert, utcnow

HOURS_TOLERANCE = 1e-6


def class_hours(session, class_id: str) -> float:
    return float(session.execute(select(func.coalesce(func.sum(TrainingSession.hours), 0.0))
                                 .where(TrainingSession.class_id == class_id,
                                        TrainingSession.status != "cancelled")).scalar_one())


def sessions_completed(session, class_id: str) -> int:
    return session.execute(select(func.count()).where(
        TrainingSession.class_id == class_id,
        TrainingSession.status == "completed")).scalar_one()


def attended_hours(session, class_id: str, enrollment_id: str | None = None) -> dict[str, float]:
    query = (select(CurrentAttendance.enrollment_id, func.sum(TrainingSession.hours))
             .join(TrainingSession, TrainingSession.session_id == CurrentAttendance.session_id)
             .where(CurrentAttendance.class_id == class_id,
                    CurrentAttendance.status.in_(domain.ATTENDED),
                    TrainingSession.status != "cancelled")
             .group_by(CurrentAttendance.enrollment_id))
    if enrollment_id is not None:
        query = query.where(CurrentAttendance.enrollment_id == enrollment_id)
    return {e: float(h) for e, h in session.execute(query).all()}


def class_completed(session, data: dict, emit, now: datetime | None = None) -> dict:
    """Decide every enrolment of a completed class. Waits (RetryLater) until this service has
    seen as many completed sessions as scheduling had, and the same class hours."""
    now = now or utcnow()
    class_id = data["class_id"]
    done = sessions_completed(session, class_id)
    expected = data.get("sessions_completed")
    if expected is not None and done < expected:
        raise RetryLater(f"class {class_id}: {done} of {expected} completed sessions seen")
    klass = lock_class(session, class_id)
    if klass is not None and klass.status in ("completed", "cancelled"):
        return {"class_id": class_id, "decided": 0, "status": klass.status}
    hours = class_hours(session, class_id)
    reported = data.get("class_hours")
    if reported is not None and abs(hours - reported) > HOURS_TOLERANCE:
        raise RetryLater(f"class {class_id}: sessions seen add up to {hours} hours, scheduling "
                         f"says {reported}")
    klass, _new = apply_class(session, data, "published")
    klass.status, klass.completed_at = "completed", now
    share = domain.completion_share()
    attended = attended_hours(session, class_id)
    enrolments = session.execute(select(Enrollment.__table__).where(
        Enrollment.class_id == class_id, Enrollment.status.in_(domain.ENROLLED))).all()
    by_status: dict[str, list[str]] = {"completed": [], "incomplete": []}
    ledger = []
    for enrolment in enrolments:
        hours_in = attended.get(enrolment.enrollment_id, 0.0)
        status = "completed" if domain.is_completed(hours_in, hours, share) else "incomplete"
        by_status[status].append(enrolment.enrollment_id)
        if status == "completed":
            ledger.append({"enrollment_id": enrolment.enrollment_id,
                           "member_no": enrolment.member_no, "year": klass.year,
                           "class_id": class_id, "hours": hours_in, "credited_at": now})
        emit("completion_recorded", events.completion_data(enrolment, klass.year, hours_in,
                                                           hours, status))
    for status, ids in by_status.items():
        for start in range(0, len(ids), 1000):
            session.execute(update(Enrollment).where(
                Enrollment.enrollment_id.in_(ids[start:start + 1000]))
                .values(status=status, updated_at=now)
                .execution_options(synchronize_session=False))
    upsert(session, StudyHours.__table__, ledger, ["enrollment_id"])
    release_all(session, klass, "the class completed before a seat came free", emit,
                statuses=("waitlisted",), now=now)
    return {"class_id": class_id, "decided": len(enrolments), "class_hours": hours,
            "completed": len(by_status["completed"]),
            "incomplete": len(by_status["incomplete"])}


def decide_one(session, klass: TrainingClass, enrolment: Enrollment, emit,
               now: datetime | None = None) -> str:
    """After a correction to a completed class: decide this enrolment again, and tell others
    only when the outcome or the hours changed."""
    now = now or utcnow()
    hours = class_hours(session, klass.class_id)
    hours_in = attended_hours(session, klass.class_id, enrolment.enrollment_id).get(
        enrolment.enrollment_id, 0.0)
    status = "completed" if domain.is_completed(hours_in, hours) else "incomplete"
    credited = session.get(StudyHours, enrolment.enrollment_id)
    unchanged = enrolment.status == status and (
        (credited is None and status == "incomplete")
        or (credited is not None and abs(credited.hours - hours_in) <= HOURS_TOLERANCE))
    if unchanged:
        return status
    enrolment.status, enrolment.updated_at = status, now
    if status == "completed":
        upsert(session, StudyHours.__table__, [{
            "enrollment_id": enrolment.enrollment_id, "member_no": enrolment.member_no,
            "year": klass.year, "class_id": klass.class_id, "hours": hours_in,
            "credited_at": now}], ["enrollment_id"])
    else:
        session.execute(delete(StudyHours).where(
            StudyHours.enrollment_id == enrolment.enrollment_id))
    session.flush()
    emit("completion_recorded", events.completion_data(enrolment, klass.year, hours_in, hours))
    return status


def ledger(session, member_no: str, year: int | None = None) -> dict:
    query = select(StudyHours).where(StudyHours.member_no == member_no)
    if year is not None:
        query = query.where(StudyHours.year == year)
    lines = session.execute(query.order_by(StudyHours.year, StudyHours.credited_at)
                            ).scalars().all()
    titles = dict(session.execute(select(TrainingClass.class_id, TrainingClass.title).where(
        TrainingClass.class_id.in_({line.class_id for line in lines}))).all())
    years: dict[int, float] = {}
    for line in lines:
        years[line.year] = round(years.get(line.year, 0.0) + line.hours, 6)
    return {
        "member_no": member_no,
        "years": [{"year": y, "hours": h} for y, h in sorted(years.items())],
        "lines": [{"year": line.year, "class_id": line.class_id,
                   "class_title": titles.get(line.class_id), "hours": line.hours,
                   "enrollment_id": line.enrollment_id,
                   "credited_at": line.credited_at.isoformat()} for line in lines],
    }
