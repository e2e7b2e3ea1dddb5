"""How scheduling's records look to RPC callers: JSON-ready dicts, dates ISO 8601, times shown
in Asia/Shanghai (events carry them in UTC; the instant is the same)."""

from services.contracts.scheduling import ClassV1, ProgramChangedV1, SessionV1
from services.kit.clock import local

from . import domain

_class, _session, _program = ClassV1(), SessionV1(), ProgramChangedV1()


def program_view(program) -> dict:
    return _program.dump(domain.program_data(program))


def session_view(session) -> dict:
    data = domain.session_data(session)
    data["starts_at"], data["ends_at"] = local(data["starts_at"]), local(data["ends_at"])
    return {**_session.dump(data), "status": session.status,
            "cancel_reason": session.cancel_reason}


def class_view(training_class, with_sessions: bool = True) -> dict:
    view = _class.dump(domain.class_data(training_class))
    view["passes_two_thirds"] = domain.passes_two_thirds(training_class.sessions)
    view["session_count"] = len(domain.live_sessions(training_class.sessions))
    view["published_at"] = training_class.published_at.isoformat() \
        if training_class.published_at else None
    view["cancel_reason"] = training_class.cancel_reason
    if with_sessions:
        view["sessions"] = [session_view(s) for s in domain.in_order(training_class.sessions)]
    return view


def instructor_view(instructor) -> dict:
    return {"instructor_id": instructor.id, "name": instructor.name,
            "affiliation": instructor.affiliation, "kind": instructor.kind}


def course_view(course) -> dict:
    instructor = course.default_instructor
    return {"course_id": course.id, "title": course.title, "themes": list(course.themes or []),
            "core_theory": course.core_theory, "default_kind": course.default_kind,
            "default_hours": course.default_hours,
            "default_instructor_id": course.default_instructor_id,
            "default_instructor_name": instructor.name if instructor else None,
            "sectors": list(course.sectors or [])}


def venue_view(venue) -> dict:
    return {"venue_id": venue.id, "name": venue.name, "seats": venue.seats,
            "address": venue.address}


def site_view(site) -> dict:
    return {"site_id": site.id, "name": site.name, "kind": site.kind,
            "audiences": list(site.audiences or []), "group_capacity": site.group_capacity,
            "address": site.address}


def page(items, total: int, query: dict, view) -> dict:
    """DESIGN §4's list shape."""
    return {"items": [view(item) for item in items], "total": total, "page": query["page"],
            "per_page": query["per_page"]}
