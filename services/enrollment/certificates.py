"""结业证书: what a completed enrolment's certificate says, the verification code printed on it,
and what anyone holding a code may learn of it (the name partly masked, nothing else personal).

A code is random (80 bits from `secrets`, in letters and digits that cannot be misread on
paper), issued the first time the certificate is drawn and the same ever after. It vouches for
the certificate only while the enrolment is still completed: a correction after completion can
undo one, and then the code says so."""

import secrets
from datetime import datetime

from sqlalchemy import select

from services.kit.errors import DomainError
from services.kit.sql import insert_rows, utcnow

from .enrolment import get_class, get_enrolment
from .models import Certificate, Enrollment, Member, Organisation, StudyHours, TrainingClass

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, no 1/I
CODE_LENGTH = 16                                      # 16 × 5 bits


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A code as people type it (lower case, grouped with hyphens or spaces) as it is stored."""
    return "".join(c for c in str(text).upper() if c not in "- ")


def mask_name(name: str | None) -> str:
    """张小三 → 张*三, 李四 → 李*, 欧阳小明 → 欧**明: enough to recognise, not to identify."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def certificate(db, enrollment_id: str, now: datetime | None = None) -> dict:
    """The certificate of one enrolment; refused (409, rule `not_completed`) unless completed."""
    enrolment = get_enrolment(db, enrollment_id)
    if enrolment.status != "completed":
        raise DomainError(f"only a completed enrolment has a certificate; this one is "
                          f"{enrolment.status}", rule="not_completed",
                          errors={"enrollment_id": [f"enrolment is {enrolment.status}"]})
    [one] = _certificates(db, [enrolment], now)
    return one


def class_certificates(db, class_id: str, within_path: str | None = None,
                       now: datetime | None = None) -> list[dict]:
    """The certificates of a class's completed enrolments (within a subtree when given), in the
    order of the class's sign-in sheet: by organisation, then name."""
    get_class(db, class_id)
    query = select(Enrollment).where(Enrollment.class_id == class_id,
                                     Enrollment.status == "completed")
    if within_path is not None:
        query = query.join(Organisation, Organisation.org_code == Enrollment.org_code).where(
            Organisation.path.startswith(within_path, autoescape=True))
    return _certificates(db, db.execute(query).scalars().all(), now)


def verify(db, code: str) -> dict:
    """What a code vouches for: `{"genuine": true, "name" (masked), "class_title", "start_date",
    "end_date", "hours", "organiser_name", "issued_at"}`, or `{"genuine": false, "reason":
    "unknown" | "not_completed"}`."""
    row = db.get(Certificate, normal_code(code)) if code else None
    if row is None:
        return {"genuine": False, "reason": "unknown"}
    enrolment = db.get(Enrollment, row.enrollment_id)
    if enrolment is None or enrolment.status != "completed":
        return {"genuine": False, "reason": "not_completed"}
    [facts] = _certificates(db, [enrolment])
    return {"genuine": True, "name": mask_name(facts["name"]),
            **{key: facts[key] for key in ("class_title", "start_date", "end_date", "hours",
                                           "organiser_name", "issued_at")}}


def _certificates(db, enrolments, now: datetime | None = None) -> list[dict]:
    if not enrolments:
        return []
    codes = _codes(db, [e.enrollment_id for e in enrolments], now or utcnow())
    class_ids = {e.class_id for e in enrolments}
    classes = {k.class_id: k for k in db.execute(select(TrainingClass).where(
        TrainingClass.class_id.in_(class_ids))).scalars()}
    people = dict(db.execute(select(Member.member_no, Member.name).where(
        Member.member_no.in_({e.member_no for e in enrolments}))).all())
    org_codes = {e.org_code for e in enrolments} | {k.organiser_org_code
                                                    for k in classes.values()}
    orgs = dict(db.execute(select(Organisation.org_code, Organisation.name).where(
        Organisation.org_code.in_(org_codes))).all())
    hours = dict(db.execute(select(StudyHours.enrollment_id, StudyHours.hours).where(
        StudyHours.enrollment_id.in_(list(codes)))).all())
    made = []
    for enrolment in enrolments:
        klass = classes[enrolment.class_id]
        code, issued_at = codes[enrolment.enrollment_id]
        made.append({
            "enrollment_id": enrolment.enrollment_id, "member_no": enrolment.member_no,
            "name": people.get(enrolment.member_no) or enrolment.member_no,
            "org_code": enrolment.org_code, "org_name": orgs.get(enrolment.org_code),
            "class_id": klass.class_id, "class_title": klass.title, "year": klass.year,
            "start_date": klass.start_date.isoformat(), "end_date": klass.end_date.isoformat(),
            "hours": float(hours.get(enrolment.enrollment_id) or 0.0),
            "organiser_org_code": klass.organiser_org_code,
            "organiser_name": orgs.get(klass.organiser_org_code) or klass.organiser_org_code,
            "code": code, "issued_at": issued_at.isoformat()})
    return sorted(made, key=lambda c: (c["org_name"] or "", c["name"], c["member_no"]))


def _codes(db, enrollment_ids: list[str], now: datetime) -> dict[str, tuple[str, datetime]]:
    """Each enrolment's code, issued now for those without one. Two requests issuing at once
    keep the first code stored (the enrolment is unique), so both print the same."""
    def stored():
        return {r.enrollment_id: (r.code, r.issued_at) for r in db.execute(
            select(Certificate).where(Certificate.enrollment_id.in_(enrollment_ids))).scalars()}

    codes = stored()
    missing = [e for e in enrollment_ids if e not in codes]
    if missing:
        insert_rows(db, Certificate.__table__, [
            {"code": new_code(), "enrollment_id": e, "issued_at": now} for e in missing],
            key=["enrollment_id"], update=False)
        codes = stored()
    return codes
