"""What enrollment tells the others: the data of each event it emits, collected in the order a
use case raises them (many at once: a completed session can emit a thousand records, which go
to the outbox's `add_many`).

Of a person, an event carries where they sit, what they are and their name for the records
(DESIGN §2: no more personal data than the reports need).
"""

SOURCE = "enrollment"


class Emitter:
    """Collects (event type, data) in the order a use case raises them."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []

    def __call__(self, event_type: str, data: dict) -> None:
        self.events.append((event_type, data))

    def of_type(self, event_type: str) -> list[dict]:
        return [data for kind, data in self.events if kind == event_type]


# -- event data ---------------------------------------------------------------------------------

def enrollment_data(enrollment, **changes) -> dict:
    """The enrolment as an event; `changes` are values just written by a set-based update."""
    return {
        "enrollment_id": enrollment.enrollment_id, "class_id": enrollment.class_id,
        "member_no": enrollment.member_no, "org_code": enrollment.org_code,
        "committee_code": enrollment.committee_code, "sector": enrollment.sector,
        "category": enrollment.category, "mode": enrollment.mode, "status": enrollment.status,
        "reason": enrollment.reason, "origin": enrollment.origin, **changes,
    }


def enrollment_event_type(status: str) -> str:
    return {"nominated": "enrollment_nominated", "confirmed": "enrollment_confirmed",
            "waitlisted": "enrollment_waitlisted", "rejected": "enrollment_rejected"}.get(
        status, "enrollment_withdrawn")


def attendance_data(entry, correction: bool | None = None) -> dict:
    return {
        "enrollment_id": entry.enrollment_id, "session_id": entry.session_id,
        "class_id": entry.class_id, "member_no": entry.member_no, "status": entry.status,
        "hours_earned": entry.hours_earned, "recorded_at": entry.recorded_at,
        "correction": entry.correction if correction is None else correction,
    }


def completion_data(enrollment, year: int, attended_hours: float, class_hours: float,
                    status: str | None = None) -> dict:
    return {
        "enrollment_id": enrollment.enrollment_id, "class_id": enrollment.class_id,
        "member_no": enrollment.member_no, "year": year, "status": status or enrollment.status,
        "attended_hours": attended_hours, "class_hours": class_hours,
        "org_code": enrollment.org_code, "committee_code": enrollment.committee_code,
        "sector": enrollment.sector, "category": enrollment.category,
    }


def organisation_data(org) -> dict:
    return {
        "org_code": org.org_code, "name": org.name, "parent_code": org.parent_code,
        "kind": org.kind, "sector": org.sector,
        "secretary_member_no": org.secretary_member_no,
    }


def person_data(member_no: str, name: str | None, org_code: str | None,
                committee_code: str | None, joined_on, employment: str | None,
                secretary_of: str | None, active: bool) -> dict:
    return {
        "member_no": member_no, "name": name, "org_code": org_code,
        "committee_code": committee_code,
        "joined_on": joined_on, "employment": employment, "secretary_of": secretary_of,
        "active": active,
    }


def study_hours_data(entry) -> dict:
    """An entry of study hours from elsewhere, or its withdrawal."""
    return {
        "entry_id": entry.entry_id, "member_no": entry.member_no, "year": entry.year,
        "hours": entry.hours, "source": entry.source, "title": entry.title, "on": entry.on,
        "withdrawn": entry.withdrawn_at is not None,
    }
