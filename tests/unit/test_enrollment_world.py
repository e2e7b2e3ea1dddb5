"""The small district every enrollment unit test stands on (SQLite, no broker), and the rules
of the organisation tree and of the registry's changes that it exercises."""

import json
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.enrollment import enrolment, tree
from services.enrollment.events import Emitter
from services.enrollment.models import Member, Organisation
from services.kit import RetryLater, migrate
from services.kit.database import make_engine
from services.kit.errors import NotFound
from services.kit.models import outbox
from services.kit.outbox import bodies_of
from tests.conftest import truncate_all

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


@contextmanager
def database(tmp_path):
    """A fresh SQLite database at enrollment's newest migration, and a session on it."""
    engine = make_engine(f"sqlite:///{tmp_path}/enrollment.db")
    migrate.upgrade(engine, "enrollment")
    with Session(engine) as db:
        yield db
    engine.dispose()


@contextmanager
def fresh_database(backend, tmp_path, name, request):
    """An empty enrollment database at the newest migration: a SQLite file, or the run's
    PostgreSQL database for enrollment (PEIXUN_TEST_DB_PREFIX), emptied. Rules that have a
    PostgreSQL way of their own (set-based statements) are tested on both."""
    if backend == "sqlite":
        (tmp_path / name).mkdir()
        with database(tmp_path / name) as db:
            yield db
        return
    url = request.getfixturevalue("database_urls")["enrollment"]
    engine = make_engine(url)
    migrate.upgrade(engine, "enrollment")
    truncate_all(url)
    with Session(engine) as db:
        yield db
    engine.dispose()


@pytest.fixture
def session(tmp_path):
    with database(tmp_path) as db:
        yield db


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


@pytest.fixture
def world(session):
    return World(session).build()


# -- the tree ----------------------------------------------------------------------------------

def test_the_tree_is_built_from_rows_in_any_order(world):
    org = world.db.get(Organisation, "FX0101")
    assert org.path == "/FX/FX01/FX0101/"
    assert org.committee_code == "FX01"       # the ancestor directly under the root
    assert world.db.get(Organisation, "FX").kind == "district"
    assert world.db.get(Organisation, "FX01").committee_code == "FX01"
    assert world.db.get(Organisation, "FX").committee_code is None


def test_ancestors_run_from_the_organisation_up_to_the_root(world):
    assert tree.ancestors(world.db, "FX0102") == ["FX0102", "FX01", "FX"]
    assert tree.ancestors(world.db, "FX") == ["FX"]
    with pytest.raises(NotFound):
        tree.ancestors(world.db, "NOPE")


def test_a_subtree_is_the_organisation_and_everything_below_it(world):
    assert set(tree.subtree(world.db, "FX01")) == {"FX01", "FX0101", "FX0102"}
    assert set(tree.subtree(world.db, "FX0201")) == {"FX0201"}
    assert len(tree.subtree(world.db, "FX")) == 6


def test_moving_an_organisation_moves_its_subtree_and_tells_who_changed_committee(world):
    tree.import_orgs(world.db, [{"row": 2, "org_code": "FX0102", "name": "某居民区党总支",
                                 "parent_code": "FX02", "kind": "grassroots",
                                 "sector": "residential"}], world.emit)
    assert tree.ancestors(world.db, "FX0102") == ["FX0102", "FX02", "FX"]
    [changed] = world.events("organisation_changed")
    assert changed["parent_code"] == "FX02"
    people = {p["member_no"]: p for p in world.events("person_changed")}
    assert set(people) == {"R1", "E1", "E2"}
    assert all(p["committee_code"] == "FX02" for p in people.values())


def test_secretaries_are_known_on_both_sides(world):
    assert world.db.get(Organisation, "FX0101").secretary_member_no == "V1"
    assert world.db.get(Member, "V1").secretary_of == "FX0101"


# -- the registry's changes --------------------------------------------------------------------

def change(member_no, kind, org_code, joined_on=date(2010, 7, 1), employment="enterprise"):
    return {"member_no": member_no, "change": kind, "name": "某某", "org_code": org_code,
            "joined_on": joined_on, "employment": employment}


def at(minutes):
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=400, minutes=minutes)


def test_a_transfer_moves_the_member_and_is_told_without_a_name(world):
    assert tree.apply_member_change(world.db, change("E1", "transferred", "FX0201"), at(1),
                                    world.emit)
    assert world.db.get(Member, "E1").org_code == "FX0201"
    [person] = world.events("person_changed")
    assert person["org_code"] == "FX0201" and person["committee_code"] == "FX02"
    assert "name" not in person


def test_an_older_registry_change_never_overwrites_a_newer_one(world):
    tree.apply_member_change(world.db, change("E1", "transferred", "FX0201"), at(10),
                             world.emit)
    assert not tree.apply_member_change(world.db, change("E1", "transferred", "FX0101"), at(5),
                                        world.emit)
    assert world.db.get(Member, "E1").org_code == "FX0201"


def test_an_update_that_changes_nothing_reporting_needs_emits_nothing(world):
    assert not tree.apply_member_change(world.db, change("E1", "updated", "FX0102"), at(1),
                                        world.emit)
    assert world.events("person_changed") == []


def test_a_secretary_appointment_replaces_the_previous_secretary(world):
    tree.apply_member_change(world.db, change("E3", "secretary_appointed", "FX0101"), at(1),
                             world.emit)
    assert world.db.get(Organisation, "FX0101").secretary_member_no == "E3"
    assert world.db.get(Member, "V1").secretary_of is None
    assert world.db.get(Member, "E3").secretary_of == "FX0101"
    people = {p["member_no"]: p["secretary_of"] for p in world.events("person_changed")}
    assert people == {"V1": None, "E3": "FX0101"}
    [org] = world.events("organisation_changed")
    assert org["secretary_member_no"] == "E3"


def test_a_member_who_leaves_stops_being_secretary_and_active(world):
    tree.apply_member_change(world.db, change("V1", "left", "FX0101"), at(1), world.emit)
    member = world.db.get(Member, "V1")
    assert (member.active, member.secretary_of) == (False, None)
    assert world.db.get(Organisation, "FX0101").secretary_member_no is None


def test_a_change_for_an_organisation_not_known_yet_waits(world):
    with pytest.raises(RetryLater):
        tree.apply_member_change(world.db, change("Z1", "joined", "NOPE"), at(1), world.emit)


def test_a_new_member_joins_from_the_registry(world):
    tree.apply_member_change(world.db, change("Z1", "joined", "FX0102"), at(1), world.emit)
    assert world.db.get(Member, "Z1").org_code == "FX0102"
    assert world.events("person_changed")[0]["member_no"] == "Z1"
