"""Who is on a session's list, as the sign-in sheet prints it and the check-in page shows it:
each person enrolled in the class (and taking part) with their name, organisation and where
they stand for the session; and, for one scanned number, why that person may or may not check
in (not known, not in the class, or their enrolment's status)."""

from sqlalchemy import and_, select

from . import domain
from .enrolment import session_or_404
from .models import AttendanceEntry, CurrentAttendance, Enrollment, Member, Organisation


def roster(db, session_id: str, within_path: str | None = None):
    """The session and its people, by organisation then name: `[{"enrollment_id",
    "member_no", "name", "org_code", "org_name", "mode", "status", "attendance",
    "checked_in_at"}]` (attendance None: nothing recorded yet)."""
    training_session = session_or_404(db, session_id)
    query = (select(Enrollment.enrollment_id, Enrollment.member_no, Enrollment.org_code,
                    Enrollment.mode, Enrollment.status, Member.name,
                    Organisation.name.label("org_name"), CurrentAttendance.status.label(
                        "attendance"), AttendanceEntry.checked_in_at)
             .join(Member, Member.member_no == Enrollment.member_no, isouter=True)
             .join(Organisation, Organisation.org_code == Enrollment.org_code, isouter=True)
             .join(CurrentAttendance, and_(
                 CurrentAttendance.enrollment_id == Enrollment.enrollment_id,
                 CurrentAttendance.session_id == session_id), isouter=True)
             .join(AttendanceEntry, AttendanceEntry.position == CurrentAttendance.position,
                   isouter=True)
             .where(Enrollment.class_id == training_session.class_id,
                    Enrollment.status.in_(domain.ENROLLED)))
    if within_path is not None:
        query = query.where(Organisation.path.startswith(within_path, autoescape=True))
    people = [{"enrollment_id": r.enrollment_id, "member_no": r.member_no,
               "name": r.name or r.member_no, "org_code": r.org_code,
               "org_name": r.org_name or r.org_code, "mode": r.mode, "status": r.status,
               "attendance": r.attendance,
               "checked_in_at": r.checked_in_at.isoformat() if r.checked_in_at else None}
              for r in db.execute(query)]
    people.sort(key=lambda p: (p["org_name"], p["name"], p["member_no"]))
    return training_session, people


def standing(db, session_id: str, member_no: str, within_path: str | None = None) -> dict:
    """Where one person stands for the session: `{"member_no", "known", "name", "org_code",
    "within" (inside the subtree asked about), "enrolment_status", "mode", "attendance"}`."""
    training_session = session_or_404(db, session_id)
    member = db.get(Member, member_no)
    if member is None:
        return {"member_no": member_no, "known": False, "name": None, "org_code": None,
                "within": False, "enrolment_status": None, "mode": None, "attendance": None}
    org = db.get(Organisation, member.org_code)
    enrolment = db.execute(select(Enrollment).where(
        Enrollment.class_id == training_session.class_id,
        Enrollment.member_no == member_no)).scalar_one_or_none()
    attendance = db.execute(select(CurrentAttendance.status).where(
        CurrentAttendance.enrollment_id == enrolment.enrollment_id,
        CurrentAttendance.session_id == session_id)).scalar_one_or_none() \
        if enrolment is not None else None
    within = within_path is None or (org is not None and org.path.startswith(within_path))
    return {"member_no": member_no, "known": True, "name": member.name,
            "org_code": member.org_code, "within": within,
            "enrolment_status": enrolment.status if enrolment is not None else None,
            "mode": enrolment.mode if enrolment is not None else None,
            "attendance": attendance}
