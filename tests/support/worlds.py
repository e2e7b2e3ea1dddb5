"""Enrollment's small district, built through the same functions the service calls (SQLite or
PostgreSQL, no broker): six organisations in any order, nine members of every category, and
classes and sessions as scheduling's events bring them."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.enrollment import enrolment, tree
from services.enrollment.events import Emitter
from services.kit.models import outbox
from services.kit.outbox import bodies_of

ORGS = [  # rows in any order, as an import would bring them
    {"row": 2, "org_code": "FX0101", "name": "某村党总支", "parent_code": "FX01",
     "kind": "基层党组织", "sector": "村"},
    {"row": 3, "org_code": "FX", "name": "奉贤区委", "parent_code": "", "kind": "committee",
     "sector": ""},
    {"row": 4, "org_code": "FX01", "name": "南桥镇党委", "parent_code": "FX",
     "kind": "党(工)委", "sector": ""},
    {"row": 5, "org_code": "FX0102", "name": "某居民区党总支", "parent_code": "FX01",
     "kind": "grassroots", "sector": "residential"},
    {"row": 6, "org_code": "FX02", "name": "区教育工作党委", "parent_code": "FX",
     "kind": "committee", "sector": ""},
    {"row": 7, "org_code": "FX0201", "name": "某中学党支部", "parent_code": "FX02",
     "kind": "grassroots", "sector": "institution"},
]

MEMBERS = [
    # member_no, org, joined_on, employment, secretary_of
    ("V1", "FX0101", "2001-07-01", "other", "FX0101"),      # village secretary
    ("R1", "FX0102", "2005-07-01", "enterprise", "FX0102"),  # residential secretary
    ("E1", "FX0102", "2010-07-01", "enterprise", ""),
    ("E2", "FX0102", "2011-07-01", "enterprise", ""),
    ("E3", "FX0101", "2012-07-01", "enterprise", ""),
    ("E4", "FX0201", "2012-07-01", "enterprise", ""),
    ("I1", "FX0201", "2008-07-01", "institution", ""),
    ("N1", "FX0201", "2024-05-01", "institution", ""),       # a new member in 2026
    ("O1", "FX0101", "2000-07-01", "other", ""),             # in no member category
]

START = date(2026, 4, 1)


class World:
    """Builds the district and classes through the same functions the service calls."""

    def __init__(self, db):
        self.db = db
        self.emit = Emitter()
        self.outbox_mark = 0

    def events(self, event_type: str) -> list[dict]:
        """The events of this type since the last `forget_events`: those written straight to
        the outbox (on PostgreSQL, an import's person_changed; as on the wire) first, as the
        service writes them, then those handed to the emitter."""
        written = [json.loads(body)["data"] for row in self.db.execute(
            select(outbox.c.body, outbox.c.events).where(outbox.c.position > self.outbox_mark,
                                                         outbox.c.routing_key == event_type)
            .order_by(outbox.c.position)) for body in bodies_of(row.body, row.events)]
        return written + self.emit.of_type(event_type)

    def forget_events(self):
        self.emit.events.clear()
        self.outbox_mark = self.db.execute(
            select(func.coalesce(func.max(outbox.c.position), 0))).scalar_one()

    def build(self):
        tree.import_orgs(self.db, ORGS, self.emit)
        tree.import_members(self.db, [
            {"row": i + 2, "member_no": no, "name": f"党员{no}", "org_code": org,
             "joined_on": joined, "employment": emp, "secretary_of": sec}
            for i, (no, org, joined, emp, sec) in enumerate(MEMBERS)], self.emit)
        self.db.flush()
        self.forget_events()
        return self

    def klass(self, track="members", category=None, sector=None, module=None, capacity=2,
              delivery="offline", start=START, sessions=0, hours=2.0, **extra) -> str:
        class_id = str(uuid.uuid4())
        enrolment.class_published(self.db, class_data(
            class_id, track=track, category=category, sector=sector, module=module,
            capacity=capacity, delivery=delivery, start=start, **extra), self.emit)
        for i in range(sessions):
            self.session(class_id, start, i, hours)
        self.db.flush()
        return class_id

    def session(self, class_id, day: date, index: int = 0, hours: float = 2.0,
                sequence: int = 0, event_type="session_scheduled", minutes: int | None = None):
        starts = datetime(day.year, day.month, day.day, 1 + 3 * index, tzinfo=UTC)
        ends = starts + timedelta(minutes=minutes or int(hours * 60))
        row, _ = enrolment.apply_session(self.db, session_data(
            class_id, starts, ends, hours, sequence=sequence), event_type)
        return row

    def nominate(self, class_id, *member_nos, **kw):
        return enrolment.nominate(self.db, class_id, list(member_nos), self.emit, **kw)


def class_data(class_id, track="members", category=None, sector=None, module=None,
               capacity=2, delivery="offline", start=START, year=None, **extra) -> dict:
    return {"class_id": class_id, "program_id": str(uuid.uuid4()), "year": year or start.year,
            "track": track, "organiser_org_code": "FX", "title": "班次",
            "audience": {"sector": sector, "module": module, "category": category},
            "offline_capacity": capacity, "delivery": delivery, "start_date": start,
            "end_date": start + timedelta(days=2), "core_theory_ratio": 1.0, **extra}


def session_data(class_id, starts, ends, hours, sequence=0, session_id=None) -> dict:
    return {"session_id": session_id or str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                       f"{class_id}/{starts.isoformat()}")),
            "class_id": class_id, "course_title": "课", "core_theory": True, "kind": "lecture",
            "starts_at": starts, "ends_at": ends, "hours": hours, "venue_name": None,
            "instructor_name": None, "live": True, "sequence": sequence}


def change(member_no, kind, org_code, joined_on=date(2010, 7, 1), employment="enterprise",
           name=None):
    """A registry change; the person keeps the name the world gave them unless `name`."""
    return {"member_no": member_no, "change": kind, "name": name or f"党员{member_no}",
            "org_code": org_code, "joined_on": joined_on, "employment": employment}


@pytest.fixture
def world(sqlite_db):
    """The district on a fresh SQLite database."""
    return World(sqlite_db("enrollment")).build()
