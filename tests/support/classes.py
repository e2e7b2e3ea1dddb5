"""Classes as a client asks scheduling for them (commands) and as scheduling tells them
(events), for tests of the services behind the broker and the gateway."""

import uuid
from datetime import UTC, datetime, time, timedelta

from services.contracts import new_event
from services.kit.clock import SHANGHAI

# -- commands ------------------------------------------------------------------------------------

PROGRAM = {"year": 2026, "track": "secretaries", "organiser_org_code": "FX",
           "name": "千名书记进党校", "target_person_times": 4000}


def secretaries_class(program_id, sessions=3):
    """A published residential secretaries' class of 1.5-hour core sessions on 2026-04-01."""
    return {
        "program_id": program_id, "title": "居民区书记拓展提升班",
        "audience": {"sector": "residential", "module": "advanced"},
        "offline_capacity": 60, "delivery": "offline",
        "start_date": "2026-04-01", "end_date": "2026-04-02", "publish": True,
        "sessions": [{
            "course_title": f"课程{i}", "core_theory": True, "kind": "lecture",
            "starts_at": f"2026-04-01T{9 + 2 * i:02d}:00:00+08:00",
            "ends_at": f"2026-04-01T{10 + 2 * i:02d}:30:00+08:00", "hours": 1.5,
        } for i in range(sessions)],
    }


def members_class_today(program_id, title):
    """A published enterprise members' class with one session today, 00:30 to 23:30 Shanghai:
    open for check-in whenever the test runs."""
    today = datetime.now(SHANGHAI).date()
    starts = datetime.combine(today, time(0, 30), SHANGHAI)
    return {"program_id": program_id, "title": title, "audience": {"category": "enterprise"},
            "offline_capacity": 100, "delivery": "offline", "start_date": today.isoformat(),
            "end_date": today.isoformat(), "publish": True,
            "sessions": [{"course_title": "党章学习", "core_theory": True, "kind": "lecture",
                          "starts_at": starts.isoformat(),
                          "ends_at": (starts + timedelta(hours=23)).isoformat(),
                          "hours": 3}]}


# -- scheduling's events -------------------------------------------------------------------------

# Today, so that attendance is still open for recording (7 days after the session).
TODAY = datetime.now(SHANGHAI).date()
STARTS = datetime.combine(TODAY, time(9), SHANGHAI).astimezone(UTC)


def scheduling_event(publish, event_type, data):
    """Publish an event as scheduling would."""
    publish("scheduling.events", event_type, new_event("scheduling", event_type, data).body())


def class_published_data(class_id, **extra):
    """A hybrid enterprise members' class held today, as `class_published` tells it."""
    return {"class_id": class_id, "program_id": str(uuid.uuid4()), "year": TODAY.year,
            "track": "members", "organiser_org_code": "FX", "title": "企业党员培训班",
            "audience": {"sector": None, "module": None, "category": "enterprise"},
            "offline_capacity": 50, "delivery": "hybrid", "start_date": TODAY,
            "end_date": TODAY, "core_theory_ratio": 1.0, **extra}


def session_scheduled_data(class_id, index=0, minutes=90, hours=1.5):
    """The class's `index`th session today (from 09:00 Shanghai, three hours apart)."""
    starts = STARTS + timedelta(hours=3 * index)
    return {"session_id": str(uuid.uuid4()), "class_id": class_id, "course_title": "课程",
            "core_theory": True, "kind": "lecture", "starts_at": starts,
            "ends_at": starts + timedelta(minutes=minutes), "hours": hours,
            "venue_name": "区委党校", "instructor_name": None, "live": True, "sequence": 0}
