"""Reporting's projections on the small district (tests/support/districts.py): the read models
do not depend on the order or the number of times events arrive."""

import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reporting import models
from tests.support.databases import sqlite_engine
from tests.support.districts import District, load, small_district, snapshot, uid


@pytest.fixture
def district():
    return small_district()


@pytest.fixture
def engine(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    yield engine
    engine.dispose()


# -- the projections ---------------------------------------------------------------------------

def test_the_read_models_do_not_depend_on_the_order_events_arrive_in(district, tmp_path):
    in_order = sqlite_engine(tmp_path / "a.db", "reporting")
    load(in_order, district.events)
    for seed in (1, 2, 3):
        shuffled = list(district.events)
        random.Random(seed).shuffle(shuffled)
        other = sqlite_engine(tmp_path / f"b{seed}.db", "reporting")
        load(other, shuffled, batch=7)
        assert snapshot(other) == snapshot(in_order)
        other.dispose()
    in_order.dispose()


def test_an_attendance_correction_replaces_the_first_record_whatever_the_arrival_order(
        district, engine):
    correction = next(e for e in district.events if e["type"] == "attendance_recorded"
                      and e["data"]["correction"])
    rest = [e for e in district.events if e is not correction]
    load(engine, [correction] + rest)   # the correction first: the older record must not win
    with engine.connect() as connection:
        status = connection.execute(select(models.rp_attendance.c.status).where(
            models.rp_attendance.c.enrollment_id == uid("E2"),
            models.rp_attendance.c.session_id == uid("B"))).scalar_one()
    assert status == "leave"


def test_a_completed_class_is_not_reopened_by_a_late_published_event(district, engine):
    completed = next(e for e in district.events if e["type"] == "class_completed")
    published = next(e for e in district.events if e["type"] == "class_published"
                     and e["data"]["class_id"] == completed["data"]["class_id"])
    load(engine, [completed, published])
    with engine.connect() as connection:
        row = connection.execute(select(models.rp_class).where(
            models.rp_class.c.class_id == uid("K1"))).mappings().one()
    assert row["status"] == "completed"
    assert str(row["completed_on"]) == "2026-04-02"   # Asia/Shanghai date of class_completed
    assert row["class_hours_ch"] == 800


def test_an_attendance_for_a_class_never_seen_is_kept_by_its_ids(engine):
    w = District()
    w.attend("EX", "SX", "KX", "M9", "present", 2, "2026-03-01T10:00:00+08:00")
    load(engine, w.events)
    with engine.connect() as connection:
        assert connection.execute(select(models.rp_attendance.c.hours_ch)).scalar_one() == 200


def test_the_same_event_applied_twice_changes_nothing(district, engine):
    load(engine, district.events)
    before = snapshot(engine)
    load(engine, district.events)
    assert snapshot(engine) == before


def test_class_progress_counts_completed_sessions_and_their_hours(district, engine):
    load(engine, district.events)
    with Session(engine) as session:
        progress = session.get(models.ClassProgress, uid("K1"))
        assert (progress.completed_sessions, progress.completed_hours) == (3, 8.0)
        assert session.get(models.ClassProgress, uid("K4")) is None
