"""A class's progress as reporting counts it: scheduling's `session_completed` for any class,
and reporting's ClassProgress read back from its database. For tests of the event guarantees:
nothing lost, nothing counted twice."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from services.contracts import new_event
from services.kit.database import make_engine
from services.reporting.models import ClassProgress


def session_completed(class_id=None, hours=2.0):
    starts = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
    return new_event("scheduling", "session_completed", {
        "session_id": str(uuid.uuid4()), "class_id": class_id or str(uuid.uuid4()),
        "course_title": "学习贯彻习近平新时代党建思想", "core_theory": True, "kind": "lecture",
        "starts_at": starts, "ends_at": starts + timedelta(hours=2), "hours": hours,
        "venue_name": "区委党校", "instructor_name": "市委党校教授", "live": False, "sequence": 0,
    })


def progress_of(url, class_id):
    """(completed sessions, completed hours) of the class in reporting's database at `url`;
    None before reporting has seen it."""
    engine = make_engine(url)
    with Session(engine) as session:
        row = session.get(ClassProgress, class_id)
        result = None if row is None else (row.completed_sessions, row.completed_hours)
    engine.dispose()
    return result
