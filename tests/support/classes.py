"""Classes as a client asks scheduling for them (commands) and as scheduling tells them
(events), for tests of the services behind the broker and the gateway."""

import uuid
from datetime import UTC, datetime, time, timedelta

from services.contracts import new_event
from services.kit.clock import SHANGHAI

# -- commands ------------------------------------------------------------------------------------

PROGRAM = {"year": 2026, "track": "secretaries", "organiser_org_code": "FX",
           "name": "千名书记进党校", "target_person_times": 4000}
CORE_COURSE = {"title": "学习贯彻习近平新时代党建思想", "core_theory": True,
               "default_kind": "lecture", "default_hours": 1.5}


def core_course(scheduling) -> str:
    """The id of a core-theory course in scheduling's catalogue (core theory comes from the
    catalogue only), added when it has none. `scheduling`: an RPC proxy of the service."""
    found = scheduling.list_courses(core_theory=True, per_page=1)["items"]
    return found[0]["course_id"] if found else scheduling.create_course(CORE_COURSE)["course_id"]


def secretaries_class(program_id, course_id, sessions=3):
    """A published residential secretaries' class of 1.5-hour sessions of the core course
    `course_id` on 2026-04-01."""
    return {
        "program_id": program_id, "title": "居民区书记拓展提升班",
        "audience": {"sector": "residential", "module": "advanced"},
        "offline_capacity": 60, "delivery": "offline",
        "start_date": "2026-04-01", "end_date": "2026-04-02", "publish": True,
        "sessions": [{
            "course_id": course_id, "kind": "lecture",
            "starts_at": f"2026-04-01T{9 + 2 * i:02d}:00:00+08:00",
            "ends_at": f"2026-04-01T{10 + 2 * i:02d}:30:00+08:00", "hours": 1.5,
        } for i in range(sessions)],
    }


def members_class_today(program_id, title, course_id):
    """A published enterprise members' class with one session of the core course `course_id`
    that ended a minute ago, after three hours (so it can be completed, and check-ins at its
    start are on time)."""
    ends = datetime.now(SHANGHAI).replace(second=0, microsecond=0) - timedelta(minutes=1)
    starts = ends - timedelta(hours=3)
    return {"program_id": program_id, "title": title, "audience": {"category": "enterprise"},
            "offline_capacity": 100, "delivery": "offline",
            "start_date": starts.date().isoformat(), "end_date": ends.date().isoformat(),
            "publish": True,
            "sessions": [{"course_id": course_id, "kind": "lecture",
                          "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
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
