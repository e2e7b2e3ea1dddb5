"""Completion (结业) and the yearly study-hour ledger.

On class_completed every enrolled person is `completed` when their attended (present or online)
hours reach the share of the class's hours (PEIXUN_COMPLETION_SHARE, 0.8), else `incomplete`.
A completed enrolment credits its attended hours to the person's ledger for the class's year.
Attendance changes that arrive after completion (a batch of them at once) decide the enrolments
they touch again, as if they had come one at a time.
"""

import math
from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete, func, select, update

from services.kit.errors import RetryLater
from services.kit.sql import upsert, utcnow

from . import domain, events
from .enrolment import apply_class, lock_class, release_all
from .models import CurrentAttendance, Enrollment, StudyHours, TrainingClass, TrainingSession

HOURS_TOLERANCE = 1e-6


def class_hours(db, class_id: str) -> float:
    return float(db.execute(select(func.coalesce(func.sum(TrainingSession.hours), 0.0))
                            .where(TrainingSession.class_id == class_id,
                                   TrainingSession.status != "cancelled")).scalar_one())


def sessions_completed(db, class_id: str) -> int:
    return db.execute(select(func.count()).where(
        TrainingSession.class_id == class_id,
        TrainingSession.status == "completed")).scalar_one()


def attended_hours(db, class_id: str, enrollment_id: str | None = None) -> dict[str, float]:
    query = (select(CurrentAttendance.enrollment_id, func.sum(TrainingSession.hours))
             .join(TrainingSession, TrainingSession.session_id == CurrentAttendance.session_id)
             .where(CurrentAttendance.class_id == class_id,
                    CurrentAttendance.status.in_(domain.ATTENDED),
                    TrainingSession.status != "cancelled")
             .group_by(CurrentAttendance.enrollment_id))
    if enrollment_id is not None:
        query = query.where(CurrentAttendance.enrollment_id == enrollment_id)
    return {e: float(h) for e, h in db.execute(query).all()}


def class_completed(db, data: dict, emit, now: datetime | None = None) -> dict:
    """Decide every enrolment of a completed class. Waits (RetryLater) until this service has
    seen as many completed sessions as scheduling had, and the same class hours."""
    now = now or utcnow()
    class_id = data["class_id"]
    done = sessions_completed(db, class_id)
    expected = data.get("sessions_completed")
    if expected is not None and done < expected:
        raise RetryLater(f"class {class_id}: {done} of {expected} completed sessions seen")
    klass = lock_class(db, class_id)
    if klass is not None and klass.status in ("completed", "cancelled"):
        return {"class_id": class_id, "decided": 0, "status": klass.status}
    hours = class_hours(db, class_id)
    reported = data.get("class_hours")
    if reported is not None and abs(hours - reported) > HOURS_TOLERANCE:
        raise RetryLater(f"class {class_id}: sessions seen add up to {hours} hours, scheduling "
                         f"says {reported}")
    klass, _new = apply_class(db, data, "published")
    klass.status, klass.completed_at = "completed", now
    share = domain.completion_share()
    attended = attended_hours(db, class_id)
    enrolments = db.execute(select(Enrollment.__table__).where(
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
            db.execute(update(Enrollment).where(
                Enrollment.enrollment_id.in_(ids[start:start + 1000]))
                .values(status=status, updated_at=now)
                .execution_options(synchronize_session=False))
    upsert(db, StudyHours.__table__, ledger, ["enrollment_id"])
    release_all(db, klass, "the class completed before a seat came free", emit,
                statuses=("waitlisted",), now=now)
    release_all(db, klass, "the class completed before the nomination was reviewed", emit,
                statuses=("nominated",), now=now)
    return {"class_id": class_id, "decided": len(enrolments), "class_hours": hours,
            "completed": len(by_status["completed"]),
            "incomplete": len(by_status["incomplete"])}


def decide_again(db, klass: TrainingClass, changes: list, emit,
                 now: datetime | None = None) -> None:
    """After attendance changes in a completed class: decide each changed enrolment again
    after each change, exactly as if the changes had come one at a time, and tell others only
    when the outcome or the credited hours changed. `changes` are (enrolment, session, status
    before, status after) in the order recorded. A few queries for the whole batch."""
    now = now or utcnow()
    hours = class_hours(db, klass.class_id)
    share = domain.completion_share()
    enrolments = {e.enrollment_id: e for e, *_ in changes}
    ids = list(enrolments)
    attended: dict[str, dict[str, float]] = {i: {} for i in ids}   # enrolment -> session: hours
    for enrollment_id, session_id, session_hours in db.execute(
            select(CurrentAttendance.enrollment_id, TrainingSession.session_id,
                   TrainingSession.hours)
            .join(TrainingSession, TrainingSession.session_id == CurrentAttendance.session_id)
            .where(CurrentAttendance.enrollment_id.in_(ids),
                   CurrentAttendance.status.in_(domain.ATTENDED),
                   TrainingSession.status != "cancelled")):
        attended[enrollment_id][session_id] = session_hours
    for enrolment, training_session, before, _after in reversed(changes):   # as before them
        _attend(attended[enrolment.enrollment_id], training_session, before)
    credited = dict(db.execute(select(StudyHours.enrollment_id, StudyHours.hours).where(
        StudyHours.enrollment_id.in_(ids))).all())
    state = {i: (enrolments[i].status, credited.get(i)) for i in ids}
    decided = set()
    for enrolment, training_session, _before, after in changes:
        sessions_attended = attended[enrolment.enrollment_id]
        _attend(sessions_attended, training_session, after)
        hours_in = math.fsum(sessions_attended.values())
        status = "completed" if domain.is_completed(hours_in, hours, share) else "incomplete"
        was, credit = state[enrolment.enrollment_id]
        if was == status and ((credit is None and status == "incomplete") or (
                credit is not None and abs(credit - hours_in) <= HOURS_TOLERANCE)):
            continue
        state[enrolment.enrollment_id] = (status, hours_in if status == "completed" else None)
        decided.add(enrolment.enrollment_id)
        emit("completion_recorded", events.completion_data(enrolment, klass.year, hours_in,
                                                           hours, status))
    if not decided:
        return
    by_status: dict[str, list[str]] = defaultdict(list)
    ledger, uncredited = [], []
    for i in decided:
        status, credit = state[i]
        by_status[status].append(i)
        if credit is None:
            uncredited.append(i)
        else:
            ledger.append({"enrollment_id": i, "member_no": enrolments[i].member_no,
                           "year": klass.year, "class_id": klass.class_id, "hours": credit,
                           "credited_at": now})
    for status, chosen in by_status.items():
        db.execute(update(Enrollment).where(Enrollment.enrollment_id.in_(chosen))
                   .values(status=status, updated_at=now))
    upsert(db, StudyHours.__table__, ledger, ["enrollment_id"])
    if uncredited:
        db.execute(delete(StudyHours).where(StudyHours.enrollment_id.in_(uncredited)))


def _attend(sessions_attended: dict, training_session, status: str | None) -> None:
    if status in domain.ATTENDED and training_session.status != "cancelled":
        sessions_attended[training_session.session_id] = training_session.hours
    else:
        sessions_attended.pop(training_session.session_id, None)


def ledger(db, member_no: str, year: int | None = None) -> dict:
    query = select(StudyHours).where(StudyHours.member_no == member_no)
    if year is not None:
        query = query.where(StudyHours.year == year)
    lines = db.execute(query.order_by(StudyHours.year, StudyHours.credited_at)
                       ).scalars().all()
    titles = dict(db.execute(select(TrainingClass.class_id, TrainingClass.title).where(
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
