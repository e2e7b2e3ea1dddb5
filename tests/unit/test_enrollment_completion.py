"""Completion and study hours (completion.py): completed at exactly 80% of the class's hours,
decided only once every completed session has been seen, credited to the yearly ledger, and
decided again when a correction comes after completion."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from services.enrollment import attendance, completion, enrolment
from services.enrollment.models import Enrollment
from services.kit import RetryLater
from tests.support.worlds import class_data

DAY = date(2026, 4, 1)


@pytest.fixture
def course(world):
    """Five sessions of 2 hours (10 hours); E1, E2, E3 confirmed, E4's committee elsewhere."""
    class_id = world.klass(category="enterprise", capacity=10, delivery="hybrid")
    world.nominate(class_id, "E1", "E2", "E3")
    rows = [world.session(class_id, DAY, i, hours=2.0) for i in range(5)]
    world.forget_events()
    return class_id, rows


def attend(world, rows, member_no, n, status="present"):
    for row in rows[:n]:
        at = row.starts_at.replace(tzinfo=UTC) + timedelta(minutes=5)
        attendance.record(world.db, row.session_id, member_no, status, world.emit,
                          source="checkin" if status in ("present", "leave") else "correction",
                          at=at, now=at)


def complete_sessions(world, rows):
    for row in rows:
        enrolment.apply_session(world.db, {
            "session_id": row.session_id, "class_id": row.class_id, "course_title": "课",
            "core_theory": True, "kind": "lecture", "starts_at": row.starts_at.replace(
                tzinfo=UTC), "ends_at": row.ends_at.replace(tzinfo=UTC), "hours": row.hours,
            "venue_name": None, "instructor_name": None, "live": True, "sequence": 0},
            "session_completed")
        attendance.mark_absent(world.db, row, world.emit,
                               now=row.ends_at.replace(tzinfo=UTC))


def finish(world, class_id, **extra):
    data = class_data(class_id, category="enterprise", capacity=10, delivery="hybrid",
                      **extra)
    return completion.class_completed(world.db, data, world.emit)


def outcome(world, class_id):
    return {e.member_no: e.status for e in world.db.execute(
        select(Enrollment).where(Enrollment.class_id == class_id)).scalars()}


def test_attending_exactly_80_percent_of_the_hours_completes(world, course):
    class_id, rows = course
    attend(world, rows, "E1", 4)     # 8 of 10 hours
    attend(world, rows, "E2", 3)     # 6 of 10
    complete_sessions(world, rows)
    world.forget_events()
    result = finish(world, class_id, class_hours=10.0, sessions_completed=5)
    assert (result["completed"], result["incomplete"]) == (1, 2)
    assert outcome(world, class_id) == {"E1": "completed", "E2": "incomplete",
                                        "E3": "incomplete"}
    records = {e["member_no"]: e for e in world.events("completion_recorded")}
    assert (records["E1"]["attended_hours"], records["E1"]["class_hours"],
            records["E1"]["year"]) == (8.0, 10.0, 2026)
    assert records["E1"]["committee_code"] == "FX01" and records["E1"]["sector"] == \
        "residential"


def test_online_hours_count_like_present_ones(world, course):
    class_id, rows = course
    attend(world, rows, "E1", 2)
    for row in rows[2:4]:
        attendance.record_viewing(world.db, [{
            "event_id": None, "session_id": row.session_id, "member_no": "E1",
            "watched_minutes": 120, "site": None}], world.emit,
            now=row.ends_at.replace(tzinfo=UTC))
    complete_sessions(world, rows)
    finish(world, class_id)
    assert outcome(world, class_id)["E1"] == "completed"


def test_completed_hours_go_to_the_ledger_of_the_class_year(world, course):
    class_id, rows = course
    attend(world, rows, "E1", 5)
    complete_sessions(world, rows)
    finish(world, class_id)
    ledger = completion.ledger(world.db, "E1")
    assert ledger["years"] == [{"year": 2026, "hours": 10.0}]
    assert ledger["lines"][0]["class_id"] == class_id
    assert completion.ledger(world.db, "E2")["years"] == []


def test_the_ledger_adds_up_classes_of_one_year_and_keeps_years_apart(world):
    for year in (2026, 2026, 2027):
        class_id = world.klass(category="enterprise", capacity=10,
                               start=date(year, 4, 1))
        world.nominate(class_id, "E1")
        rows = [world.session(class_id, date(year, 4, 1), 0, hours=3.0)]
        attend(world, rows, "E1", 1)
        complete_sessions(world, rows)
        completion.class_completed(world.db, class_data(class_id, category="enterprise",
                                                        capacity=10, start=date(year, 4, 1)),
                                   world.emit)
    assert completion.ledger(world.db, "E1")["years"] == [
        {"year": 2026, "hours": 6.0}, {"year": 2027, "hours": 3.0}]
    assert completion.ledger(world.db, "E1", 2027)["years"] == [{"year": 2027, "hours": 3.0}]


def test_completion_waits_until_every_completed_session_has_been_seen(world, course):
    class_id, rows = course
    complete_sessions(world, rows[:4])
    with pytest.raises(RetryLater, match="4 of 5 completed sessions"):
        finish(world, class_id, sessions_completed=5)
    complete_sessions(world, rows[4:])
    finish(world, class_id, sessions_completed=5)
    assert set(outcome(world, class_id).values()) == {"incomplete"}


def test_completion_waits_while_the_class_hours_disagree(world, course):
    class_id, rows = course
    complete_sessions(world, rows)
    with pytest.raises(RetryLater, match="add up to 10.0 hours"):
        finish(world, class_id, class_hours=8.0)


def test_cancelled_sessions_do_not_count_in_the_class_hours(world, course):
    class_id, rows = course
    attend(world, rows, "E1", 3)          # 6 hours
    enrolment.apply_session(world.db, {
        "session_id": rows[4].session_id, "class_id": class_id, "course_title": "课",
        "core_theory": True, "kind": "lecture",
        "starts_at": rows[4].starts_at.replace(tzinfo=UTC),
        "ends_at": rows[4].ends_at.replace(tzinfo=UTC), "hours": 2.0, "venue_name": None,
        "instructor_name": None, "live": True, "sequence": 1}, "session_cancelled")
    complete_sessions(world, rows[:4])
    result = finish(world, class_id, class_hours=8.0, sessions_completed=4)
    assert result["class_hours"] == 8.0
    assert outcome(world, class_id)["E1"] == "incomplete"     # 6 of 8 is 75%


def test_a_class_is_decided_once(world, course):
    class_id, rows = course
    complete_sessions(world, rows)
    finish(world, class_id)
    world.forget_events()
    assert finish(world, class_id)["decided"] == 0
    assert world.events("completion_recorded") == []


def test_the_waitlist_is_released_when_the_class_completes(world):
    class_id = world.klass(category="enterprise", capacity=1)
    world.nominate(class_id, "E1", "E2")
    world.forget_events()
    completion.class_completed(world.db, class_data(class_id, category="enterprise",
                                                    capacity=1), world.emit)
    assert outcome(world, class_id) == {"E1": "incomplete", "E2": "released"}
    assert world.events("enrollment_withdrawn")[0]["status"] == "released"


def test_nominations_never_reviewed_are_released_when_the_class_completes(world):
    class_id = world.klass(category="enterprise", capacity=10, review_nominations=True)
    world.nominate(class_id, "E1")
    world.forget_events()
    completion.class_completed(world.db, class_data(class_id, category="enterprise",
                                                    review_nominations=True), world.emit)
    assert outcome(world, class_id) == {"E1": "released"}
    [released] = world.events("enrollment_withdrawn")
    assert released["reason"] == "the class completed before the nomination was reviewed"


def test_a_correction_after_completion_decides_the_enrolment_again(world, course):
    class_id, rows = course
    attend(world, rows, "E1", 3)     # 6 hours: incomplete
    complete_sessions(world, rows)
    finish(world, class_id)
    world.forget_events()
    last = rows[3]
    attendance.record(world.db, last.session_id, "E1", "present", world.emit,
                      source="correction", reason="签到表补录",
                      now=last.ends_at.replace(tzinfo=UTC) + timedelta(days=2))
    assert outcome(world, class_id)["E1"] == "completed"
    [record] = world.events("completion_recorded")
    assert (record["status"], record["attended_hours"]) == ("completed", 8.0)
    assert completion.ledger(world.db, "E1")["years"] == [{"year": 2026, "hours": 8.0}]
    attendance.record(world.db, last.session_id, "E1", "absent", world.emit,
                      source="correction", reason="误录",
                      now=last.ends_at.replace(tzinfo=UTC) + timedelta(days=3))
    assert outcome(world, class_id)["E1"] == "incomplete"
    assert completion.ledger(world.db, "E1")["years"] == []


def test_the_share_comes_from_the_environment(world, course, monkeypatch):
    monkeypatch.setenv("PEIXUN_COMPLETION_SHARE", "0.6")
    class_id, rows = course
    attend(world, rows, "E1", 3)     # 60%
    complete_sessions(world, rows)
    finish(world, class_id)
    assert outcome(world, class_id)["E1"] == "completed"


def test_an_unknown_class_completing_with_nothing_to_wait_for_is_recorded(world):
    data = class_data("33333333-3333-4333-8333-333333333333", category="enterprise")
    result = completion.class_completed(world.db, data, world.emit,
                                        now=datetime(2026, 5, 1, tzinfo=UTC))
    assert result["decided"] == 0
    assert enrolment.get_class(world.db, data["class_id"]).status == "completed"
